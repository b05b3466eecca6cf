"""Preview a Task's ``result.payload``, read on request: text, JSON, report paths, arrays.

A payload is whatever the Task returned: a short message, JSON, ``;``-joined
report paths, or (``TestSocket`` and friends) a numpy array that LUTE stored
as its raw bytes.  Payloads can be megabytes, so the detail view reads one
only when asked and shows a bounded preview built here; nothing is ever
unpickled or evaluated, because a payload is untrusted data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from lute_model.summary_text import report_paths

#: Values shown at the start of an array preview.
FIRST_VALUES = 8
#: JSON longer than this is shown as text: pretty-printing megabytes helps nobody.
JSON_MAX = 1024 * 1024
#: Bytes shown in hex for a blob we cannot interpret.
HEX_BYTES = 64
_PICKLE_START = b"\x80"


@dataclass(frozen=True, slots=True)
class ArraySummary:
    """A float64 array seen through its statistics, so 40,000 values fit on one screen."""

    count: int
    finite: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    first: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PayloadPreview:
    """What the detail view shows of one payload; every field is plain data, not markup."""

    kind: str  # SQLite storage class as stored: "text", "blob", "null", "integer", "real"
    size: int  # bytes of the whole stored value
    text: str = ""  # the first ``limit`` characters (text payloads and text-like blobs)
    truncated: bool = False  # whether ``text`` stops before the end of the value
    json: str | None = None  # pretty-printed JSON, when the value is a JSON object or list
    reports: list[str] = field(default_factory=list)  # report.html paths named by the payload
    array: ArraySummary | None = None  # a raw float64 blob, summarized
    note: str = ""  # how the value was read, in words ("binary, not text", "a Python pickle")

    @property
    def empty(self) -> bool:
        return self.size == 0


def preview(value: bytes | str | None, kind: str, limit: int,
            size: int | None = None) -> PayloadPreview:
    """A bounded preview of a payload value; never raises on odd data.

    ``size`` is the stored size when ``value`` holds only the first bytes of
    a larger payload (the statistics then describe only what was read).
    """
    if value is None:
        return PayloadPreview(kind, size or 0, note="no payload.")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _blob_preview(bytes(value), kind, limit, size)
    text = value if isinstance(value, str) else str(value)
    return _text_preview(text, kind, limit, len(text.encode()) if size is None else size)


def _text_preview(text: str, kind: str, limit: int, size: int, note: str = "") -> PayloadPreview:
    return PayloadPreview(kind, size, text=text[:limit], truncated=len(text) > limit,
                          json=_pretty_json(text, limit), reports=report_paths(text), note=note)


def _pretty_json(text: str, limit: int) -> str | None:
    """Indented JSON for an object or list; bare numbers and strings gain nothing from it."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "[{" or len(text) > JSON_MAX:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    pretty = json.dumps(parsed, indent=2, ensure_ascii=False, sort_keys=False)
    return pretty if len(pretty) <= limit else pretty[:limit] + "\n…"


def _blob_preview(data: bytes, kind: str, limit: int, size: int | None) -> PayloadPreview:
    """Text when the bytes are readable text, else a float64 array when the length allows."""
    total = len(data) if size is None else size
    text = _as_text(data)
    if text is not None:
        return _text_preview(text, kind, limit, total, note="binary value holding text.")
    if data and len(data) % 8 == 0:
        read = "" if total == len(data) else f" (the first {len(data):,} bytes)"
        return PayloadPreview(kind, total, array=_array_summary(data),
                              note=f"raw bytes read as float64 values{read}.")
    note = ("looks like a Python pickle; not loaded." if data.startswith(_PICKLE_START)
            else "binary data of unknown type.")
    return PayloadPreview(kind, total, text=data[:HEX_BYTES].hex(" "),
                          truncated=len(data) > HEX_BYTES, note=note)


def _as_text(data: bytes) -> str | None:
    """The bytes as UTF-8 text, if they are text: no NULs or other control characters.

    An array of zeros is valid UTF-8 (all NULs), hence the control-character check.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text[:4096]):
        return None
    return text


def _array_summary(data: bytes) -> ArraySummary:
    values = np.frombuffer(data, dtype="<f8")
    finite = values[np.isfinite(values)]
    have = finite.size > 0
    return ArraySummary(
        count=int(values.size),
        finite=int(finite.size),
        minimum=float(finite.min()) if have else None,
        maximum=float(finite.max()) if have else None,
        mean=float(finite.mean()) if have else None,
        first=tuple(float(v) for v in values[:FIRST_VALUES]),
    )
