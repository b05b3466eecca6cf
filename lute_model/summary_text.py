"""Read LUTE's free-text ``result.summary``: ``key: value`` pairs, report paths, plain text.

LUTE joins a dict as ``k1: v1;k2: v2``, a list of dicts and plots as a
``;``-joined mix of pairs and absolute ``report.html`` paths, and keeps a plain
string verbatim (newlines included).  Values may themselves contain ``;`` or
``: ``, so splitting is a best effort and the raw text is always kept too.
"""

from __future__ import annotations

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


def report_paths(*texts: str | None) -> list[str]:
    """Every absolute ``.../report.html`` path in the given summaries or payloads."""
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        for piece in text.split(";"):
            match = _PATH.match(piece)
            if match and match.group(1) not in found:
                found.append(match.group(1))
    return found


def first_line(text: str, limit: int = 120) -> str:
    """The summary's first line, shortened: what a hover or a table cell shows."""
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
