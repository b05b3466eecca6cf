"""When each Task of each run was queued, started and ended: what the Timing screen shows.

LUTE writes a Task's database row when the Task ends, so a row's time is its
end; only the status journal says when a Task was queued (PENDING) and when
it started (RUNNING).  The Experiment keeps just each cell's latest event
(older ones never decide a status again), so it keeps, per journal, a
:class:`JournalMarks`: the time of each cell's latest PENDING and RUNNING
event, noted as events are read (O(new events), nothing read twice).

From those marks and the cells' rows this module derives, per Task and run,
queued / started / ended / duration (:func:`timing_of`), a run's timeline,
the median duration per Task over the last runs, and runs per hour.  A cell
LUTE ran without the journal has only its end: its duration is unknown, not 0.
"""

from __future__ import annotations

import statistics
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from lute_model.changes import Cell
from lute_model.results import TaskRun
from lute_model.sources.journal import parse_time
from lute_model.status import TaskStatus

if TYPE_CHECKING:
    from lute_model.experiment import Experiment

#: A database time has whole seconds and a journal time milliseconds: a start up to this
#: much after the stored end is the same second, not an error.
SAME_SECOND = timedelta(seconds=1)
UNFINISHED = (TaskStatus.PENDING, TaskStatus.RUNNING)


class JournalMarks:
    """Per cell, the time of its latest PENDING and of its latest RUNNING journal event.

    The latest, not the first: a Task queued again after a failure is timed
    from its new start.  Written by the refresh thread, read by sessions with
    single lookups (``dict.get`` is safe against a concurrent insert).
    """

    def __init__(self) -> None:
        self._queued: dict[Cell, str] = {}
        self._started: dict[Cell, str] = {}

    def note(self, events: Iterable[TaskRun]) -> None:
        """Remember the PENDING and RUNNING times of new events (journal times sort as text)."""
        for event in events:
            if event.status is TaskStatus.PENDING:
                marks = self._queued
            elif event.status is TaskStatus.RUNNING:
                marks = self._started
            else:
                continue
            cell = (event.task, event.run_key)
            if event.timestamp > marks.get(cell, ""):
                marks[cell] = event.timestamp

    def clear(self) -> None:
        """The journal is read again from its start (rotated or truncated)."""
        self._queued, self._started = {}, {}

    def queued(self, cell: Cell) -> str | None:
        return self._queued.get(cell)

    def started(self, cell: Cell) -> str | None:
        return self._started.get(cell)


@dataclass(frozen=True)
class Timing:
    """One Task execution's times (UTC); None where nothing says."""

    task: str
    run: Any
    status: Any
    queued: datetime | None
    started: datetime | None
    ended: datetime | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known."""
        if self.started is None or self.ended is None:
            return None
        return max(0.0, (self.ended - self.started).total_seconds())

    @property
    def waited(self) -> float | None:
        """Seconds from queued to started, when both are known."""
        if self.queued is None or self.started is None:
            return None
        return max(0.0, (self.started - self.queued).total_seconds())


def _latest(times: Iterable[str | None]) -> datetime | None:
    known = [time for time in times if time]
    return parse_time(max(known)) if known else None


def timing_of(row: TaskRun, marks: Iterable[JournalMarks]) -> Timing:
    """The times of a cell's latest execution: its marks, and its row's time as the end
    when the row is final (a database row, or a final journal event)."""
    cell = (row.task, row.run_key)
    marks = list(marks)
    queued = _latest(mark.queued(cell) for mark in marks)
    started = _latest(mark.started(cell) for mark in marks)
    ended = None if row.status in UNFINISHED else parse_time(row.timestamp)
    if ended is not None and started is not None:
        if started > ended + SAME_SECOND:  # a mark of a later try: not this one's start
            queued = started = None
        elif started > ended:  # the row's time lost its fraction of a second
            ended = started
    if started is not None and queued is not None and queued > started:
        queued = None  # queued again after this start: that queueing is not this try's
    return Timing(row.task, row.run_key, row.status, queued, started, ended)


def run_timeline(experiment: Experiment, run: Any) -> list[Timing]:
    """The Tasks of one run in pipeline order, each with its times."""
    marks = experiment.journal_marks.values()
    latest = experiment.latest
    return [timing_of(latest[(task, run)], marks) for task in experiment.tasks
            if (task, run) in latest]


def median_durations(experiment: Experiment, last: int) -> dict[str, tuple[float, int]]:
    """Task -> (median duration in seconds, executions counted) over the newest ``last`` runs;
    Tasks with no known duration there are left out."""
    marks, latest = list(experiment.journal_marks.values()), experiment.latest
    durations: dict[str, list[float]] = {}
    for run in experiment.runs[:max(last, 0)]:
        for task in experiment.tasks:
            row = latest.get((task, run))
            duration = timing_of(row, marks).duration if row is not None else None
            if duration is not None:
                durations.setdefault(task, []).append(duration)
    return {task: (statistics.median(values), len(values)) for task, values in durations.items()}


@dataclass(frozen=True)
class RunsPerHour:
    """How many runs began in each hour (UTC) that has any, in time order."""

    hours: list[datetime]
    counts: list[int]


_per_hour: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_per_hour_lock = threading.Lock()


def runs_per_hour(experiment: Experiment) -> RunsPerHour:
    """Runs by the hour they began (their earliest known time); once per published state,
    shared by sessions (``latest`` is replaced, never changed, so identity dates it)."""
    latest = experiment.latest
    with _per_hour_lock:
        cached = _per_hour.get(experiment)
        if cached is not None and cached[0] is latest:
            return cached[1]
    marks = list(experiment.journal_marks.values())
    began: dict[Any, datetime] = {}
    for row in latest.values():
        timing = timing_of(row, marks)
        first = timing.queued or timing.started or timing.ended
        if first is not None and (row.run_key not in began or first < began[row.run_key]):
            began[row.run_key] = first
    counts: dict[datetime, int] = {}
    for time in began.values():
        hour = time.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        counts[hour] = counts.get(hour, 0) + 1
    hours = sorted(counts)
    result = RunsPerHour(hours, [counts[hour] for hour in hours])
    with _per_hour_lock:
        _per_hour[experiment] = (latest, result)
    return result
