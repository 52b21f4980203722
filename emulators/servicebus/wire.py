"""AMQP 1.0 message sections: split what clients send, and stamp what the broker adds before delivery.

Messages are kept as the client encoded them. Only the sections the broker owns (header, message
annotations, and application properties when dead-lettered) are re-encoded; the body and properties pass
through byte for byte, so nothing the client set can be lost or retyped on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proton import Data, Described, symbol, timestamp, uint, ulong

from emulators.servicebus.state import StoredMessage

HEADER = 0x70
DELIVERY_ANNOTATIONS = 0x71
MESSAGE_ANNOTATIONS = 0x72
PROPERTIES = 0x73
APPLICATION_PROPERTIES = 0x74
DATA = 0x75
AMQP_SEQUENCE = 0x76
AMQP_VALUE = 0x77
FOOTER = 0x78
_SECTION_CODES = range(HEADER, FOOTER + 1)
_BODY_CODES = (DATA, AMQP_SEQUENCE, AMQP_VALUE)

# Header fields, in order (AMQP 1.0 §3.2.1); the broker only ever sets delivery-count.
_HEADER_FIELDS = 5
_DELIVERY_COUNT_FIELD = 4

SEQUENCE_NUMBER = symbol("x-opt-sequence-number")
SCHEDULED_ENQUEUE_TIME = symbol("x-opt-scheduled-enqueue-time")
ENQUEUED_TIME = symbol("x-opt-enqueued-time")
LOCKED_UNTIL = symbol("x-opt-locked-until")
DEAD_LETTER_REASON = "DeadLetterReason"
DEAD_LETTER_DESCRIPTION = "DeadLetterErrorDescription"


class DecodeError(ValueError):
    """The bytes are not a well-formed AMQP message."""


@dataclass(frozen=True)
class Section:
    """One top-level section of an encoded message: its descriptor code, its bytes and its value."""

    code: int
    raw: bytes
    value: Any


def split_sections(raw: bytes) -> list[Section]:
    """Split an encoded message into its sections, in the order they arrived."""
    sections: list[Section] = []
    offset = 0
    while offset < len(raw):
        data = Data()
        try:
            consumed = data.decode(raw[offset:])
            data.rewind()
            data.next()
            value = _materialize(data.get_object())
        except Exception as error:  # proton raises its own DataException and friends
            raise DecodeError(f"undecodable AMQP section at byte {offset}: {error}") from error
        code = value.descriptor if isinstance(value, Described) else None
        if not isinstance(code, int) or code not in _SECTION_CODES:
            raise DecodeError(f"not an AMQP message section at byte {offset}")
        sections.append(Section(int(code), raw[offset : offset + consumed], value.value))
        offset += consumed
    return sections


def _materialize(value: Any) -> Any:
    """Copy binary values out of proton's buffer: its memoryviews dangle once the `Data` is freed."""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, Described):
        return Described(value.descriptor, _materialize(value.value))
    if isinstance(value, list):
        return [_materialize(item) for item in value]
    if isinstance(value, dict):
        return type(value)({_materialize(key): _materialize(item) for key, item in value.items()})
    return value


def unbatch(raw: bytes) -> list[bytes]:
    """The messages in one transfer: a batch (several encoded messages in data sections) or a single one.

    Proton does not expose the transfer's message-format (0x80013700 marks a batch), so a batch is
    recognised by its shape: an envelope with no application properties whose body is only data sections,
    each of which is itself a complete AMQP message.
    """
    sections = split_sections(raw)
    body = [section for section in sections if section.code in _BODY_CODES]
    if not body or any(section.code != DATA for section in body):
        return [raw]
    if any(section.code == APPLICATION_PROPERTIES for section in sections):
        return [raw]
    inner = [bytes(section.value) for section in body]
    if all(_is_message(payload) for payload in inner):
        return inner
    return [raw]


def _is_message(payload: bytes) -> bool:
    if len(payload) < 3 or payload[0] != 0x00 or payload[1] != 0x53 or payload[2] not in _SECTION_CODES:
        return False
    try:
        sections = split_sections(payload)
    except DecodeError:
        return False
    return any(section.code in _BODY_CODES for section in sections)


def message_annotations(payload: bytes) -> dict[str, Any]:
    """The message-annotations section of an encoded message, keyed by plain strings."""
    for section in split_sections(payload):
        if section.code == MESSAGE_ANNOTATIONS and isinstance(section.value, dict):
            return {str(key): value for key, value in section.value.items()}
    return {}


def render_delivery(message: StoredMessage, locked_until: float | None) -> bytes:
    """Encode a stored message for a receiver, with the broker's header, annotations and dead-letter info."""
    by_code: dict[int, list[Section]] = {}
    for section in split_sections(message.payload):
        by_code.setdefault(section.code, []).append(section)

    header = list(_first_value(by_code, HEADER) or [])
    header += [None] * (_HEADER_FIELDS - len(header))
    header[_DELIVERY_COUNT_FIELD] = uint(message.delivery_count)

    annotations = dict(_first_value(by_code, MESSAGE_ANNOTATIONS) or {})
    annotations[SEQUENCE_NUMBER] = message.sequence_number
    annotations[ENQUEUED_TIME] = _timestamp(message.enqueued_time)
    if locked_until is not None:
        annotations[LOCKED_UNTIL] = _timestamp(locked_until)

    out = [_encode_section(HEADER, header)]
    out += [section.raw for section in by_code.get(DELIVERY_ANNOTATIONS, [])]
    out.append(_encode_section(MESSAGE_ANNOTATIONS, annotations))
    out += [section.raw for section in by_code.get(PROPERTIES, [])]
    if message.dead_letter_reason is not None or message.dead_letter_description is not None:
        application = dict(_first_value(by_code, APPLICATION_PROPERTIES) or {})
        application[DEAD_LETTER_REASON] = message.dead_letter_reason or ""
        application[DEAD_LETTER_DESCRIPTION] = message.dead_letter_description or ""
        out.append(_encode_section(APPLICATION_PROPERTIES, application))
    else:
        out += [section.raw for section in by_code.get(APPLICATION_PROPERTIES, [])]
    for code in (*_BODY_CODES, FOOTER):
        out += [section.raw for section in by_code.get(code, [])]
    return b"".join(out)


def _first_value(by_code: dict[int, list[Section]], code: int) -> Any:
    sections = by_code.get(code)
    return sections[0].value if sections else None


def _encode_section(code: int, value: Any) -> bytes:
    data = Data()
    data.put_object(Described(ulong(code), value))
    encoded: bytes = data.encode()
    return encoded


def _timestamp(epoch_seconds: float) -> timestamp:
    return timestamp(int(epoch_seconds * 1000))
