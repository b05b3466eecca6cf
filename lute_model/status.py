"""TaskStatus, its colors and how to parse it: the one place.

LUTE stores a status as the member's name (``"COMPLETED"``), but older code,
other writers and hand-made databases give integers, ``"TaskStatus.COMPLETED"``
or lower case.  Everything that shows a status goes through :func:`parse_status`
and :data:`PALETTE` (with :data:`TEXT_ON`, :data:`SYMBOL` and :data:`ANSI`, all
keyed by status), so the grid, the table, the badges, the legend and the
terminal agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar


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

#: A value of a StatusTable (a color, a glyph, a terminal code).
V = TypeVar("V")

#: Every status a view can meet, in the order of the legend.
ALL_STATUSES: tuple[AnyStatus, ...] = (*TaskStatus, UNKNOWN)

#: Statuses after which LUTE writes the database row: the Task will not change.
FINAL_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED,
     TaskStatus.CANCELLED, TaskStatus.TIMEDOUT}
)


class StatusTable(dict[AnyStatus, V]):
    """A value for each status, keyed by :class:`TaskStatus` and :data:`UNKNOWN`.

    Every unknown status (each keeps its own raw text) finds UNKNOWN's value,
    so ``PALETTE[row.status]`` holds for any status a reader produced.
    """

    def __missing__(self, status: AnyStatus) -> V:
        if isinstance(status, UnknownStatus):
            return self[UNKNOWN]
        raise KeyError(status)

    def by_name(self) -> dict[str, V]:
        """The same values keyed by the status's name: for JavaScript and the grid's columns."""
        return {status.name: value for status, value in self.items()}


#: Fill colors, from the Okabe-Ito set (distinct for the common forms of color
#: blindness).  RUNNING (strong blue) and PENDING (yellow) stand apart from
#: COMPLETED (green) and FAILED (vermillion) in hue *and* lightness.
PALETTE: StatusTable[str] = StatusTable({
    TaskStatus.PENDING: "#F0E442",
    TaskStatus.RUNNING: "#0072B2",
    TaskStatus.COMPLETED: "#009E73",
    TaskStatus.FAILED: "#D55E00",
    TaskStatus.STOPPED: "#CC79A7",
    TaskStatus.CANCELLED: "#56B4E9",
    TaskStatus.TIMEDOUT: "#E69F00",
    UNKNOWN: "#5E5E5E",
})

#: Text color that stays readable on each fill.
TEXT_ON: StatusTable[str] = StatusTable({
    status: ("#ffffff" if status in {TaskStatus.RUNNING, TaskStatus.COMPLETED,
                                     TaskStatus.FAILED, UNKNOWN} else "#000000")
    for status in PALETTE
})

#: One glyph per status, so that a status never depends on color alone.
SYMBOL: StatusTable[str] = StatusTable({
    TaskStatus.PENDING: "…",
    TaskStatus.RUNNING: "▶",
    TaskStatus.COMPLETED: "✔",
    TaskStatus.FAILED: "✘",
    TaskStatus.STOPPED: "■",
    TaskStatus.CANCELLED: "⊘",
    TaskStatus.TIMEDOUT: "◔",
    UNKNOWN: "?",
})

#: 256-color terminal codes close to PALETTE, for the CLI.
ANSI: StatusTable[int] = StatusTable({
    TaskStatus.PENDING: 227, TaskStatus.RUNNING: 25, TaskStatus.COMPLETED: 36,
    TaskStatus.FAILED: 166, TaskStatus.STOPPED: 175, TaskStatus.CANCELLED: 74,
    TaskStatus.TIMEDOUT: 214, UNKNOWN: 247,
})

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
