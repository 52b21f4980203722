// Judges recorded responses with Microsoft's oav LiveValidator, the validator Azure runs on specs and live
// traffic. `node oav_validate.cjs <spec root> [spec path ...]` loads the specs named (paths under the root), or
// every vendored servicelinker.json under the root when none is named (oav picks the spec of each request's
// api-version): our API's responses, or with named specs the ARM emulator's (tests/fixtures/oav_arm.py). It then
// reads one JSON array of {liveRequest, liveResponse} pairs (oav's traffic format) per line on stdin and writes
// one JSON array of issues per line on stdout, each naming the pair, the operation, the JSON paths in the
// payload and the rule (oav's error code). Requests are not judged: tests send bad input on purpose, and it is
// the answer to it that has to match the spec.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { LiveValidator } = require("oav");

// oav logs warnings on stdout while loading some specs (authorization's "/{roleAssignmentId}" path has no
// provider segment): keep stdout for the protocol and send everything else to stderr.
const protocolOut = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

async function judge(validator, pairs) {
  const issues = [];
  for (const [index, pair] of pairs.entries()) {
    const result = await validator.validateLiveRequestResponse(pair);
    const response = result.responseValidationResult;
    const operationId = response.operationInfo ? response.operationInfo.operationId : undefined;
    const failure = result.runtimeException || response.runtimeException;
    if (failure) {
      issues.push({ index, operationId, code: failure.code, message: failure.message, paths: [] });
    }
    for (const error of response.errors) {
      issues.push({ index, operationId, code: error.code, message: error.message, paths: error.pathsInPayload });
    }
  }
  return issues;
}

async function main() {
  const specRoot = path.resolve(process.argv[2]);
  const named = process.argv.slice(3);
  const swaggerPaths = (
    named.length
      ? named
      : fs.readdirSync(specRoot, { recursive: true }).filter((file) => path.basename(file) === "servicelinker.json")
  ).map((file) => path.resolve(specRoot, file));
  const validator = new LiveValidator({
    swaggerPaths,
    directory: specRoot,
    git: { shouldClone: false },
    isPathCaseSensitive: false,
    loadValidatorInBackground: false,
    loadValidatorInInitialize: true,
  });
  await validator.initialize();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim()) {
      protocolOut(JSON.stringify(await judge(validator, JSON.parse(line))) + "\n");
    }
  }
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(2);
});
