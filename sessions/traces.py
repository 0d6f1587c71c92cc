"""W3C trace context parsing: a `traceparent` header value or a bare trace id."""

import re
from dataclasses import dataclass

_HEX = re.compile(r"^[0-9a-f]+$")


class TraceError(ValueError):
    pass


@dataclass(frozen=True)
class ParsedTrace:
    trace_id: str
    span_id: str = ""


def _trace_id(value: str) -> str:
    if len(value) != 32 or not _HEX.match(value.lower()):
        raise TraceError("A trace id is 32 hexadecimal characters.")
    if value != value.lower():
        raise TraceError("Trace ids are lowercase hexadecimal (W3C Trace Context).")
    if set(value) == {"0"}:
        raise TraceError("The all-zero trace id is invalid.")
    return value


def parse(*, traceparent: str = "", trace_id: str = "", span_id: str = "") -> ParsedTrace:
    """Validate one of the two forms; raises TraceError naming the problem."""
    traceparent, trace_id, span_id = traceparent.strip(), trace_id.strip(), span_id.strip()
    if traceparent and trace_id:
        raise TraceError("Give a traceparent or a trace id, not both.")
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) < 4:
            raise TraceError("A traceparent looks like 00-<32 hex>-<16 hex>-<2 hex>.")
        version, tid, parent, flags = parts[:4]
        if len(version) != 2 or not _HEX.match(version):
            raise TraceError("The traceparent version is 2 lowercase hex characters.")
        if version == "ff":
            raise TraceError("Version ff is forbidden by W3C Trace Context.")
        if version == "00" and len(parts) != 4:
            raise TraceError("A version 00 traceparent has exactly four fields.")
        if len(parent) != 16 or not _HEX.match(parent):
            raise TraceError("The parent (span) id is 16 lowercase hex characters.")
        if set(parent) == {"0"}:
            raise TraceError("The all-zero parent id is invalid.")
        if len(flags) != 2 or not _HEX.match(flags):
            raise TraceError("The trace flags are 2 lowercase hex characters.")
        return ParsedTrace(_trace_id(tid), parent)
    if not trace_id:
        raise TraceError("Paste a traceparent or a 32-hex trace id.")
    if span_id and (len(span_id) != 16 or not _HEX.match(span_id) or set(span_id) == {"0"}):
        raise TraceError("A span id is 16 lowercase hex characters, not all zero.")
    return ParsedTrace(_trace_id(trace_id), span_id)
