"""Every response of the API, judged against the official ServiceLinker spec of its api-version by oav.

The e2e fixture records each request/response pair it makes (raw HTTP and the official SDK client, through a
pipeline policy) in oav's traffic format, and hands a test's pairs to one long-lived oav LiveValidator
(tests/contract/oav_validate.cjs) when the test ends. A response that breaks its schema fails the test, naming
the operation, the JSON path and oav's rule. The specs are vendored, unmodified, under spec/ (spec/README.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import SansIOHTTPPolicy

REPO = Path(__file__).resolve().parents[2]
SPEC_ROOT = REPO / "spec" / "specification"
VALIDATOR_SCRIPT = Path(__file__).with_name("oav_validate.cjs")
NODE_MODULES = REPO / "node_modules"

# The api-versions whose spec is vendored under spec/ (spec/README.md says where each came from): every one
# the product serves (connector.wire.SUPPORTED_API_VERSIONS).
VENDORED_API_VERSIONS = frozenset(
    {"2022-05-01", "2022-11-01-preview", "2023-04-01-preview", "2024-04-01", "2024-07-01-preview"}
)
# The version that judges an answer to a request whose api-version no spec describes (it can only be an ARM
# error, the same ErrorResponse in every version).
ERROR_JUDGE_API_VERSION = "2022-05-01"

# Responses outside the ServiceLinker spec, never judged by it: (path fragment, why).
EXEMPT_PATHS: tuple[tuple[str, str], ...] = (
    ("/operationStatuses/", "ARM's Azure-AsyncOperation status resource; the RP's spec does not describe it"),
    ("/diagnostics", "this product's own per-cluster diagnostics, no ServiceLinker operation"),
    ("/resetExtension", "this product's own extension reset, no ServiceLinker operation"),
    ("/api/", "health, openapi.json and reconcile: this product's own endpoints"),
    ("/runtime/webhooks/", "the Durable Functions webhooks of the Functions host"),
    ("/admin/", "the Functions host's admin API"),
)


# The Functions host refuses a request without a valid function key (401, no body) before the app runs; on
# Azure, ARM authenticates the caller before the resource provider sees the request.
HOST_KEY_REFUSAL = 401


def exemption(url: str, status: int = 200, body: Any = None) -> str | None:
    """Why a request's response is not judged by the ServiceLinker spec, or None when it is."""
    if status == HOST_KEY_REFUSAL and body is None:
        return "the Functions host's function-key refusal, answered before the app runs"
    path = urllib.parse.urlsplit(url).path
    for fragment, why in EXEMPT_PATHS:
        if fragment.lower() in path.lower():
            return why
    if "/providers/microsoft.servicelinker/" not in path.lower():
        return "not a ServiceLinker path"
    return None


def _judged_url(url: str, status: int) -> str | None:
    """The URL oav is given: the recorded one, or for an error answer to an unknown api-version, the same
    path under ERROR_JUDGE_API_VERSION. None when no spec can judge it."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    version = (query.get("api-version") or [""])[0]
    if version in VENDORED_API_VERSIONS:
        return url
    if status < 400:
        return None  # a success at a version without a vendored spec: see VENDORED_API_VERSIONS
    query["api-version"] = [ERROR_JUDGE_API_VERSION]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))


@dataclass
class TrafficRecorder:
    """The request/response pairs one test made, in oav's traffic format."""

    pairs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        method: str,
        url: str,
        request_body: Any,
        status: int,
        response_headers: dict[str, str],
        response_body: Any,
    ) -> None:
        """Keep one exchange if the spec judges it."""
        why = exemption(url, status, response_body)
        judged = None if why else _judged_url(url, status)
        if judged is None:
            with self._lock:
                self.skipped.append((f"{method} {url}", why or "no vendored spec for this api-version"))
            return
        pair = {
            "liveRequest": {
                "method": method.upper(),
                "url": judged,
                "headers": {"content-type": "application/json"},
                # Requests are not judged (tests send bad ones on purpose); their bodies may carry secrets.
                "body": None,
            },
            "liveResponse": {
                "statusCode": str(status),
                "headers": {k.lower(): v for k, v in response_headers.items()},
                "body": response_body,
            },
        }
        with self._lock:
            self.pairs.append(pair)

    def take(self) -> list[dict[str, Any]]:
        """The pairs recorded so far, and forget them."""
        with self._lock:
            pairs, self.pairs = self.pairs, []
        return pairs


_active: TrafficRecorder | None = None


def activate(recorder: TrafficRecorder | None) -> None:
    """Make `recorder` the one that clients started outside the fixture (the SDK side environment) feed."""
    global _active
    _active = recorder


def active_recorder() -> TrafficRecorder | None:
    """The recorder of the e2e test now running, if any."""
    return _active


def _json_or_none(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


class RecordingPolicy(SansIOHTTPPolicy[Any, Any]):
    """Records every exchange the official SDK client makes (including LRO polls and nextLink pages)."""

    def __init__(self, recorder: TrafficRecorder) -> None:
        self._recorder = recorder

    def on_response(self, request: PipelineRequest[Any], response: PipelineResponse[Any, Any]) -> None:
        """Record the exchange."""
        http_request, http_response = request.http_request, response.http_response
        self._recorder.record(
            http_request.method,
            http_request.url,
            _json_or_none(http_request.body),
            http_response.status_code,
            dict(http_response.headers),
            _json_or_none(http_response.body()),
        )


class OavValidator:
    """One oav LiveValidator in a node process, loaded once, judging one batch of pairs per call."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            ["node", str(VALIDATOR_SCRIPT), str(SPEC_ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        )
        self._lock = threading.Lock()

    def issues(self, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """oav's response issues for these pairs (empty when every response matches its schema)."""
        if not pairs:
            return []
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(pairs) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the oav validator stopped (exit code {self._process.poll()})")
        issues: list[dict[str, Any]] = json.loads(line)
        for issue in issues:
            request = pairs[issue["index"]]["liveRequest"]
            issue["request"] = f"{request['method']} {request['url']}"
            issue["status"] = pairs[issue["index"]]["liveResponse"]["statusCode"]
        return issues

    def close(self) -> None:
        """Stop the node process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)


def describe(issues: list[dict[str, Any]]) -> str:
    """One line per issue: operation, status, JSON path, rule, message, request."""
    return "\n".join(
        f"{i.get('operationId')} {i['status']}: {','.join(i.get('paths') or ['/'])} breaks {i['code']}: "
        f"{i['message']} ({i['request']})"
        for i in issues
    )
