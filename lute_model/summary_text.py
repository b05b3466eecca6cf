"""Read LUTE's free-text ``result.summary``: ``key: value`` pairs, report paths, plain text.

LUTE joins a dict as ``k1: v1;k2: v2``, a list of dicts and plots as a
``;``-joined mix of pairs and absolute ``report.html`` paths, and keeps a plain
string verbatim (newlines included).  Values may themselves contain ``;`` or
``: ``, so splitting is a best effort and the raw text is always kept too.
Since 2025 a summary may be any object; one that was stored as JSON (a dict,
or a list of dicts and paths) is read as the pairs and paths it holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_PATH = re.compile(r"^\s*(/[^;]*?/report\.html)\s*$")
_KEY_MAX = 80


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """One piece of a summary: ``kind`` is "pair", "report" or "text"."""

    kind: str
    key: str = ""
    value: str = ""


def split_summary(text: str) -> list[SummaryItem]:
    """The pieces of a summary, in order; pieces that are neither pair nor path are text."""
    found = _json_items(text)
    if found is not None:
        return found
    items: list[SummaryItem] = []
    for piece in text.split(";"):
        if _PATH.match(piece):
            items.append(SummaryItem("report", value=piece.strip()))
            continue
        key, sep, value = piece.partition(": ")
        if sep and key.strip() and "\n" not in key and len(key) <= _KEY_MAX:
            items.append(SummaryItem("pair", key.strip(), value.strip()))
        elif items and items[-1].kind in ("pair", "text"):
            last = items[-1]  # a ';' inside a value: glue it back
            items[-1] = SummaryItem(last.kind, last.key, f"{last.value};{piece}")
        elif piece.strip():
            items.append(SummaryItem("text", value=piece))
    return items


def _json_items(text: str) -> list[SummaryItem] | None:
    """A summary stored as a JSON object or array, as pairs, paths and text; else None."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    parts = value if isinstance(value, list) else [value]
    if not any(isinstance(part, (dict, str)) for part in parts):
        return None  # numbers (a printed array): the text says it best
    items: list[SummaryItem] = []
    for part in parts:
        if isinstance(part, dict):
            items += [SummaryItem("pair", str(key)[:_KEY_MAX], _scalar(item))
                      for key, item in part.items()]
        elif isinstance(part, str) and _PATH.match(part):
            items.append(SummaryItem("report", value=part.strip()))
        else:
            items.append(SummaryItem("text", value=_scalar(part)))
    return items


def _scalar(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def report_paths(*texts: str | None) -> list[str]:
    """Every absolute ``.../report.html`` path in the given summaries or payloads."""
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        items = _json_items(text)
        pieces = text.split(";") if items is None else [
            item.value for item in items if item.kind == "report"]
        for piece in pieces:
            match = _PATH.match(piece)
            if match and match.group(1) not in found:
                found.append(match.group(1))
    return found


def first_line(text: str, limit: int = 120) -> str:
    """The summary's first line, shortened: what a hover or a table cell shows."""
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
