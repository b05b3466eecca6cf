"""What both of LUTE's database layouts share: how much of a value the state keeps,
and the SQL that sizes a summary or payload without loading it.

LUTE wrote one table per Task until 2025 ("v1", ``lute/io/db.py``) and a
normalized layout since ("v2", database specification v0.2, ``executions`` at
its spine).  Both store a free-text summary and a payload of any size; the
reader of each layout keeps the same bounded part of them, so the state of a
large experiment stays small whichever LUTE wrote it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lute_model.results import PayloadInfo

#: Summaries are free text that can be megabytes long; the state keeps this
#: much of each (the whole is read on request).
SUMMARY_KEEP = 16 * 1024
#: Short text payloads are kept: some Tasks put their report path there.
PAYLOAD_TEXT_KEEP = 4 * 1024
#: A parameter value longer than this is kept as its first characters only.
PARAMETER_KEEP = 2 * 1024


def quote(name: str) -> str:
    """An SQL identifier, whatever characters a Task or column name holds."""
    return '"' + name.replace('"', '""') + '"'


def summary_sql(expr: str) -> list[str]:
    """The kept start of a summary and its full size, in bytes (two result columns).

    Read as a BLOB: SQLite's text functions stop at a NUL character, so a
    summary holding one would be cut short without a word.
    """
    return [f"substr(CAST({expr} AS BLOB), 1, {SUMMARY_KEEP})", f"length(CAST({expr} AS BLOB))"]


def summary_value_sql(expr: str, limit: int | None) -> str:
    """A whole summary (or its first ``limit`` bytes), as a BLOB: see :func:`summary_sql`."""
    blob = f"CAST({expr} AS BLOB)"
    return blob if limit is None else f"substr({blob}, 1, {int(limit)})"


def kept_text(value: Any, cut: bool = False) -> str:
    """A summary read by :func:`summary_sql` as text; ``cut``: it may end mid-character."""
    if not isinstance(value, bytes):
        return "" if value is None else str(value)
    if len(value) <= INTERN_BYTES:
        return decode_text(value)
    text = value.decode("utf-8", errors="replace")
    return text.rstrip("\ufffd") if cut else text


def payload_sql(expr: str) -> list[str]:
    """A payload's storage class, its size and, when it is short text, the text itself."""
    return [f"typeof({expr})", f"length({expr})",
            f"CASE WHEN typeof({expr}) = 'text' AND length({expr}) <= {PAYLOAD_TEXT_KEEP} "
            f"THEN {expr} END"]


def capped_sql(expr: str) -> str:
    """A parameter value, cut to :data:`PARAMETER_KEEP` characters when longer."""
    return (f"CASE WHEN length({expr}) > {PARAMETER_KEEP} "
            f"THEN substr({expr}, 1, {PARAMETER_KEEP}) ELSE {expr} END")


def read_new_rows(con: sqlite3.Connection, table: str, into: dict[int, dict[str, Any]]) -> None:
    """New rows of a table LUTE only appends to (``gen_cfg``, ``config``, ...), keyed by id.

    Reads what has an id above the largest one kept: the cost of a refresh is
    the number of new rows, not the size of the table.
    """
    cursor = con.execute(f"SELECT * FROM {quote(table)} WHERE id > ? ORDER BY id",
                         (max(into, default=0),))
    names = [d[0] for d in cursor.description]
    for row in cursor:
        record = dict(zip(names, row, strict=False))
        into[record["id"]] = record


#: Text up to this many bytes is interned: statuses, timestamps, short summaries,
#: parameter values repeat across thousands of rows and would each be a copy.
INTERN_BYTES = 96
_interned: dict[bytes, str] = {}
_payloads: dict[tuple[str, int, str | None], PayloadInfo] = {}
#: The caches forget everything past this many entries (a bound, not an LRU).
_CACHE_MAX = 200_000


def decode_text(data: bytes) -> str:
    """SQLite TEXT as ``str`` (bad UTF-8 replaced, never an error); short text shared."""
    if len(data) > INTERN_BYTES:
        return data.decode("utf-8", errors="replace")
    text = _interned.get(data)
    if text is None:
        if len(_interned) >= _CACHE_MAX:
            _interned.clear()
        text = _interned[data] = data.decode("utf-8", errors="replace")
    return text


def payload_info(kind: str | None, size: int | None, text: str | None) -> PayloadInfo:
    """What is known of a payload, shared between rows that have the same (most have "")."""
    key = (kind or "null", size or 0, text)
    found = _payloads.get(key)
    if found is None:
        if len(_payloads) >= _CACHE_MAX:
            _payloads.clear()
        found = _payloads[key] = PayloadInfo(*key)
    return found


def unreadable(err: sqlite3.DatabaseError) -> str:
    """Why a table could not be read, for a Problem; a writer's lock is re-raised instead:
    the whole read waits and retries (the reader says busy), nothing is skipped."""
    if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
        raise err
    return str(err)
