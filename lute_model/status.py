"""TaskStatus, its colors and how to parse it: the one place.

LUTE stores a status as the member's name (``"COMPLETED"``), but older code,
other writers and hand-made databases give integers, ``"TaskStatus.COMPLETED"``
or lower case.  Everything that shows a status goes through :func:`parse_status`
and :data:`PALETTE`, so the grid, the table, the badges, the legend and the
terminal agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class TaskStatus(Enum):
    """Possible Task statuses: the same names and values as LUTE's own enum."""

    PENDING = 0
    RUNNING = 1
    COMPLETED = 2
    FAILED = 3
    STOPPED = 4
    CANCELLED = 5
    TIMEDOUT = 6


@dataclass(frozen=True)
class UnknownStatus:
    """A status value we could not read; kept with the raw value so it can be shown.

    It is not a member of :class:`TaskStatus` on purpose: converting it back to
    LUTE's enum must fail loudly instead of inventing a status.
    """

    raw: str = ""
    name: str = "UNKNOWN"
    value: int = -1


UNKNOWN = UnknownStatus()

AnyStatus = TaskStatus | UnknownStatus

#: Every status a view can meet, in the order of the legend.
ALL_STATUSES: tuple[AnyStatus, ...] = (*TaskStatus, UNKNOWN)

#: Statuses after which LUTE writes the database row: the Task will not change.
FINAL_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED,
     TaskStatus.CANCELLED, TaskStatus.TIMEDOUT}
)

#: Fill colors, from the Okabe-Ito set (distinct for the common forms of color
#: blindness).  RUNNING (strong blue) and PENDING (yellow) stand apart from
#: COMPLETED (green) and FAILED (vermillion) in hue *and* lightness.
PALETTE: dict[str, str] = {
    "PENDING": "#F0E442",
    "RUNNING": "#0072B2",
    "COMPLETED": "#009E73",
    "FAILED": "#D55E00",
    "STOPPED": "#CC79A7",
    "CANCELLED": "#56B4E9",
    "TIMEDOUT": "#E69F00",
    "UNKNOWN": "#5E5E5E",
}

#: Text color that stays readable on each fill.
TEXT_ON: dict[str, str] = {
    name: ("#ffffff" if name in {"RUNNING", "COMPLETED", "FAILED", "UNKNOWN"} else "#000000")
    for name in PALETTE
}

#: One glyph per status, so that a status never depends on color alone.
SYMBOL: dict[str, str] = {
    "PENDING": "…",
    "RUNNING": "▶",
    "COMPLETED": "✔",
    "FAILED": "✘",
    "STOPPED": "■",
    "CANCELLED": "⊘",
    "TIMEDOUT": "◔",
    "UNKNOWN": "?",
}

#: 256-color terminal codes close to PALETTE, for the CLI.
ANSI: dict[str, int] = {
    "PENDING": 227, "RUNNING": 25, "COMPLETED": 36, "FAILED": 166,
    "STOPPED": 175, "CANCELLED": 74, "TIMEDOUT": 214, "UNKNOWN": 247,
}

_BY_NAME = {member.name: member for member in TaskStatus}
_BY_VALUE = {member.value: member for member in TaskStatus}


_PARSED: dict[Any, AnyStatus] = {}


def parse_status(raw: Any) -> AnyStatus:
    """:func:`read_status`, remembered for the few words and numbers a database repeats."""
    if type(raw) in (str, int):
        found = _PARSED.get(raw)
        if found is None:
            if len(_PARSED) > 1024:  # arbitrary text: do not keep it all
                _PARSED.clear()
            found = _PARSED[raw] = read_status(raw)
        return found
    return read_status(raw)


def read_status(raw: Any) -> AnyStatus:
    """Read a status as any writer may have stored it; never raise.

    Accepts a :class:`TaskStatus` (ours or LUTE's, by name), ``"COMPLETED"``,
    ``"TaskStatus.COMPLETED"``, ``"completed"``, ``2`` and ``"2"``.  Anything else
    becomes an :class:`UnknownStatus` that keeps the raw text.
    """
    if isinstance(raw, TaskStatus):
        return raw
    if isinstance(raw, Enum):
        raw = raw.name
    if isinstance(raw, bool):
        return UnknownStatus(raw=repr(raw))
    if isinstance(raw, int):
        return _BY_VALUE.get(raw, UnknownStatus(raw=str(raw)))
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return UnknownStatus(raw="" if raw is None else repr(raw)[:80])
    text = raw.strip()
    word = text.upper().removeprefix("TASKSTATUS.")
    if word in _BY_NAME:
        return _BY_NAME[word]
    if word.lstrip("-").isascii() and word.lstrip("-").isdigit():  # not "²": int() refuses it
        return _BY_VALUE.get(int(word), UnknownStatus(raw=text[:80]))
    return UnknownStatus(raw=text[:80])
