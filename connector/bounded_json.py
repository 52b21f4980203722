"""JSON parsing with limits, for request bodies and queue messages that anyone may send.

`json.loads` recurses once per nesting level (a body nested 1,000 deep raises RecursionError, not
ValueError) and accepts any size and element count. `loads_bounded` checks size first, then scans the text
once (strings skipped, so brackets inside them do not count) for depth and element count, and only then
parses. The limits are far beyond what a ServiceLinker body needs (its deepest path is 4 levels, it has a
few dozen values), so no valid request is ever refused by them.

Failures are `RequestValidationError`s, so callers turn them into their usual ARM 400 or rejection event:
`InvalidRequestContent` naming the limit that was exceeded, `InvalidRequestBody` for text that is not JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from connector.validation import INVALID_REQUEST_BODY, INVALID_REQUEST_CONTENT, RequestValidationError

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 10_000

# One token at a time: a whole string (its escapes included; possessive, so no backtracking), or a
# character that opens, closes or separates. Anything else is skipped by finditer.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{},]', re.DOTALL)


@dataclass(frozen=True)
class JsonLimits:
    """How big, how deep and how many values a document may be."""

    max_bytes: int = MAX_BODY_BYTES
    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS


DEFAULT_LIMITS = JsonLimits()


def _too_much(what: str, limit: int, unit: str) -> RequestValidationError:
    return RequestValidationError(
        INVALID_REQUEST_CONTENT,
        f"The {what} exceeds the limit of {limit} {unit}; no request this API accepts comes near it.",
    )


def size_error(
    size: int, limits: JsonLimits = DEFAULT_LIMITS, what: str = "request body"
) -> RequestValidationError | None:
    """The error for a body of `size` bytes when it is over the size limit, else None."""
    if size > limits.max_bytes:
        return _too_much(f"{what} size ({size} bytes)", limits.max_bytes, "bytes")
    return None


def _check_shape(text: str, limits: JsonLimits, what: str) -> None:
    depth = 0
    elements = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            elements += 1
            if depth > limits.max_depth:
                raise _too_much(f"{what} nesting depth", limits.max_depth, "levels")
        elif token in "]}":
            depth -= 1
        elif token == ",":
            elements += 1
        if elements > limits.max_elements:
            raise _too_much(f"{what} element count", limits.max_elements, "values")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_bounded(raw: bytes | str, limits: JsonLimits = DEFAULT_LIMITS, what: str = "request body") -> Any:
    """Parse UTF-8 JSON within `limits`; RequestValidationError (never RecursionError) otherwise."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    too_big = size_error(size, limits, what)
    if too_big is not None:
        raise too_big
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise RequestValidationError(INVALID_REQUEST_BODY, f"The {what} is not UTF-8 text.") from None
    _check_shape(text, limits, what)
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
        # A lone surrogate (an escaped "\ud800") parses, but cannot be stored or sent on: refuse it here.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        raise RequestValidationError(INVALID_REQUEST_BODY, f"The {what} is not valid JSON.") from None
    return document
