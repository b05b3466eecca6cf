"""Experiment: the param state of one result directory, refreshed in place.

One Experiment per result directory per process: every browser session
watches the same object.  ``refresh()`` does the reading (off the UI thread)
and publishes what changed in one ``param.update``, as an
:class:`ExperimentChange`, so that views can patch only the cells, rows and
pages that changed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import param

from lute_model.discovery import ExperimentSource
from lute_model.problems import Problem
from lute_model.results import ExecutionDetails, TaskRun, run_key
from lute_model.sources.journal import JOURNAL_NAME, JournalReader, parse_time
from lute_model.sources.lutedb import LuteDbReader
from lute_model.sources.summary_tree import SummaryPage, SummaryTreeReader
from lute_model.status import ALL_STATUSES, AnyStatus, TaskStatus
from lute_model.summaries import split_report_path
from lute_model.summary_text import report_paths

Cell = tuple[str, Any]  # (task, run key)
JOURNAL_PROBLEMS = 20
#: LUTE's own default ``task_timeout`` (``AnalysisHeader``), for a Task whose own is not known.
LUTE_DEFAULT_TASK_TIMEOUT = 600.0
RECENT_KEPT = 100
HEARTBEAT = 1.0


@dataclass
class ExperimentChange:
    """What one refresh changed; an empty change is not published."""

    rows: list[TaskRun] = field(default_factory=list)
    events: list[TaskRun] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    #: Cells whose status changed: (the new word on the cell, the status before or None).
    transitions: list[tuple[TaskRun, AnyStatus | None]] = field(default_factory=list)
    new_runs: list[Any] = field(default_factory=list)
    new_tasks: list[str] = field(default_factory=list)
    pages: list[SummaryPage] = field(default_factory=list)
    removed_pages: list[str] = field(default_factory=list)
    reset: bool = False

    def __bool__(self) -> bool:
        return bool(self.rows or self.events or self.pages or self.removed_pages or self.reset)

    @classmethod
    def merged(cls, changes: list[ExperimentChange]) -> ExperimentChange:
        """Several consecutive changes as one: what a session that fell behind applies."""
        if len(changes) == 1:
            return changes[0]
        merged = cls(reset=any(c.reset for c in changes))
        for change in changes:
            merged.rows += change.rows
            merged.events += change.events
            merged.cells += [c for c in change.cells if c not in merged.cells]
            merged.transitions += change.transitions
            merged.new_runs += [r for r in change.new_runs if r not in merged.new_runs]
            merged.new_tasks += [t for t in change.new_tasks if t not in merged.new_tasks]
            merged.pages = [p for p in merged.pages if p.display_name not in change.removed_pages]
            merged.pages += change.pages
            merged.removed_pages += change.removed_pages
        return merged


#: Within one second, a row of the newer layout is the later word: LUTE upgrades one way.
_LAYOUT_RANK = {"v1": 1, "v2": 2}


def _order(row: TaskRun) -> tuple[str, int, int, int]:
    """Sort key of the merge rule: latest by time; a database row is final.

    Database times have whole seconds while journal times have milliseconds,
    so a row counts as the end of its second: a journal event of the same
    second (the RUNNING that preceded it) never outranks it.  Two rows of one
    second (a rerun) are ordered by layout, then by id, which grows with time.
    """
    if row.rowid is None:
        return (row.timestamp, 0, 0, 0)
    return (row.timestamp + ".999999", 1, _LAYOUT_RANK.get(row.layout, 0), row.rowid)


def _newer(a: TaskRun, b: TaskRun) -> bool:
    """Whether ``a`` is a later word on its cell than ``b``."""
    return _order(a) >= _order(b)


def pipeline_order(rows: list[TaskRun]) -> list[str]:
    """Tasks in the order they run: by their mean position within each run's rows.

    Rows of one run are ordered by time; LUTE's timestamps have one-second
    resolution, so ties fall back to the order the Task tables were created
    in (the reading order), which is the order Tasks first ran.
    """
    by_run: dict[Any, list[TaskRun]] = defaultdict(list)
    first_seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        by_run[row.run_key].append(row)
        first_seen.setdefault(row.task, index)
    positions: dict[str, list[int]] = defaultdict(list)
    for run_rows in by_run.values():
        order: list[str] = []
        for row in sorted(run_rows, key=lambda r: (r.timestamp, first_seen[r.task])):
            if row.task not in order:
                order.append(row.task)
        for position, task in enumerate(order):
            positions[task].append(position)
    return sorted(first_seen, key=lambda t: (sum(positions[t]) / len(positions[t]), first_seen[t]))


class Experiment(param.Parameterized):
    """The live state of one experiment's results, shared by every session."""

    source = param.ClassSelector(class_=ExperimentSource, doc="Where the results are on disk.")
    executions = param.List(default=[], doc="Every Task execution read, in reading order.")
    latest = param.Dict(default={}, doc="(task, run key) -> the execution that gives its status.")
    tasks = param.List(default=[], doc="Task names in pipeline order.")
    runs = param.List(default=[], doc="Run keys, newest first.")
    pages = param.Dict(default={}, doc="display_name -> SummaryPage on disk.")
    page_refs = param.Dict(default={}, doc="display_name -> cells whose row names that page.")
    problems = param.List(default=[], doc="What could not be read, as Problem(path, message).")
    change = param.ClassSelector(class_=ExperimentChange, doc="The last refresh's changes.")
    refreshed_at = param.Number(default=0.0, doc="time.time() of the last completed refresh.")
    loaded = param.Boolean(default=False, doc="Whether the first read has finished.")
    recent = param.List(default=[], doc="The latest status changes seen live, newest first: "
                        "(TaskRun, previous status or None).")
    layouts = param.Dict(default={}, doc="lute.db path -> the layouts it was read as "
                         "(['v1'], ['v2'], both, or [] when none could be read).")

    def __init__(self, source: ExperimentSource, **params: Any) -> None:
        super().__init__(source=source, name=source.name, **params)
        self._db_readers = [LuteDbReader(path) for path in source.databases]
        self._journals = [JournalReader(Path(path).parent / JOURNAL_NAME)
                          for path in source.databases]
        self._tree = SummaryTreeReader(source.summary_dir) if source.summary_dir else None
        self._problems: dict[str, list[Problem]] = {}
        if not source.databases:
            self._problems["lute.db"] = [Problem(
                str(source.root or source.summary_dir or source.name),
                "no lute.db found (looked in the folder and up to 3 levels below): "
                "no Task results to show, only summary pages.")]
        self._rows_by_db: dict[str, list[TaskRun]] = defaultdict(list)
        # Only each cell's latest journal event is kept: the journal grows all
        # experiment long, and older events never decide a status again.
        self._journal_latest: dict[str, dict[Cell, TaskRun]] = defaultdict(dict)
        # Names LUTE recorded for this experiment (gen_cfg.experiment): report
        # paths under any of them belong here, even in a renamed copy.
        self._owners: set[str] = set()
        self._task_timeout: float | None = None
        self._counts: tuple[dict | None, dict[str, int]] = (None, {})

    @property
    def counts(self) -> dict[str, int]:
        """Current status of every (Task, run) cell, counted by status name.

        Counted once per published state (``latest`` is replaced, never changed
        in place), however many sessions ask.
        """
        latest = self.latest
        if self._counts[0] is not latest:
            counts = {status.name: 0 for status in ALL_STATUSES}
            for row in latest.values():
                counts[row.status.name] += 1
            self._counts = (latest, counts)
        return dict(self._counts[1])

    def refresh(self) -> ExperimentChange:
        """Read what changed on disk and publish it; returns the change (maybe empty)."""
        change = ExperimentChange()
        latest = dict(self.latest)
        # Shallow copy: a list is replaced, never changed, when a row adds to it (O(new rows)).
        page_refs = dict(self.page_refs)
        layouts = dict(self.layouts)
        for reader in self._db_readers:
            delta = reader.refresh()
            key = str(reader.path)
            self._problems[key] = delta.problems
            if delta.ok:
                layouts[key] = delta.layouts
            if delta.reset:
                change.reset = True
                self._rows_by_db[key] = []
            self._rows_by_db[key].extend(delta.rows)
            change.rows.extend(delta.rows)
        for journal in self._journals:
            events = journal.refresh()
            key = str(journal.path)
            kept = self._journal_latest[key]
            if events.reset:
                change.reset = True
                kept.clear()
                self._problems[key] = []
            # Bad lines stay reported (the last few): they will not be read again.
            reported = self._problems.get(key, []) + events.problems
            self._problems[key] = reported[-JOURNAL_PROBLEMS:]
            for event in events.rows:
                cell = (event.task, event.run_key)
                if cell not in kept or _newer(event, kept[cell]):
                    kept[cell] = event
            change.events.extend(events.rows)
        if change.reset:
            latest, page_refs = {}, {}
            change.rows = [row for rows in self._rows_by_db.values() for row in rows]
            change.events = [row for kept in self._journal_latest.values()
                             for row in kept.values()]
        for row in change.rows + change.events:
            cell = (row.task, row.run_key)
            current = latest.get(cell)
            if current is None or _newer(row, current):
                latest[cell] = row
                change.cells.append(cell)
                before = None if current is None else current.status
                if before != row.status:
                    change.transitions.append((row, before))
            timeout = row.gen_cfg.get("task_timeout")
            if isinstance(timeout, (int, float)) and timeout > 0:
                self._task_timeout = float(timeout)
            owner = row.gen_cfg.get("experiment")
            if owner:
                self._owners.add(str(owner))
            for name in self._pages_named(row):
                refs = page_refs.get(name, [])
                if cell not in refs:
                    page_refs[name] = [*refs, cell]
        pages = self.pages
        if self._tree is not None:
            tree = self._tree.refresh()
            self._problems["summary"] = tree.problems
            if tree.changed or tree.removed:
                pages = self._tree.pages()
                change.pages, change.removed_pages = tree.changed, tree.removed
        now = time.time()
        updates: dict[str, Any] = {"loaded": True}
        # Every session hears of refreshed_at: say it when something changed, else
        # at most once a second (enough for "updated 2 s ago").
        if change or now - self.refreshed_at >= HEARTBEAT:
            updates["refreshed_at"] = now
        problems = [p for group in self._problems.values() for p in group]
        if problems != self.problems:
            updates["problems"] = problems
        if layouts != self.layouts:
            updates["layouts"] = layouts
        if change:
            updates.update(self._derived(change, latest, page_refs, pages))
            if self.loaded and not change.reset and change.transitions:
                fresh = sorted(change.transitions, key=lambda t: _order(t[0]), reverse=True)
                updates["recent"] = (fresh + self.recent)[:RECENT_KEPT]
        self.param.update(**updates)
        return change

    def _derived(self, change: ExperimentChange, latest: dict, page_refs: dict,
                 pages: dict) -> dict[str, Any]:
        executions = [row for rows in self._rows_by_db.values() for row in rows]
        known_runs = set() if change.reset else set(self.runs)
        # Cells are never removed without a reset: only the changed cells can add a run.
        added_runs = {cell[1] for cell in (latest if change.reset else change.cells)} - known_runs
        runs = (sorted(known_runs | added_runs, key=_run_sort_key, reverse=True) if added_runs
                else list(self.runs))
        change.new_runs = [r for r in runs if r in added_runs]
        tasks = list(self.tasks)
        new_tasks = [cell[0] for cell in change.cells if cell[0] not in tasks]
        if new_tasks or change.reset:
            tasks = pipeline_order(executions + [r for r in latest.values() if r.rowid is None])
            change.new_tasks = [t for t in tasks if t not in self.tasks or change.reset]
        return {"executions": executions, "latest": latest, "runs": runs, "tasks": tasks,
                "pages": pages, "page_refs": page_refs, "change": change}

    def _pages_named(self, row: TaskRun) -> list[str]:
        """display_names of the reports a row's summary or payload names."""
        names = []
        for path in report_paths(row.summary, row.payload.text):
            name = self.display_name_for(path)
            if name is not None:
                names.append(name)
        return names

    def display_name_for(self, report_path: str) -> str | None:
        """The page a stored absolute report path stands for in this experiment, if any.

        The facility prefix (``/sdf/data/lcls/ds/{hutch}/{experiment}/``) is
        dropped; the path must name this experiment (by folder or by the
        experiment LUTE recorded), else it is someone else's page.
        """
        found = split_report_path(report_path)
        if found is None:
            return None
        owner, name = found
        if owner == self.name or owner in self._owners:
            return name
        return None

    def timeout_of(self, row: TaskRun) -> float:
        """The Task's ``task_timeout`` in seconds: its config's (a database row's header,
        or the journal event's), else the newest one seen, else LUTE's default."""
        timeout = row.gen_cfg.get("task_timeout")
        if isinstance(timeout, (int, float)) and timeout > 0:
            return float(timeout)
        return self._task_timeout or LUTE_DEFAULT_TASK_TIMEOUT

    def overdue(self, now: datetime | None = None) -> list[TaskRun]:
        """Tasks RUNNING (by the journal) for longer than their ``task_timeout``: stalled.

        LUTE ends a Task at its timeout, so one still RUNNING after it hangs
        (LUTE can leave a Task paused forever at its start) or its end was
        never reported.  A database row is final even when it says RUNNING:
        only a live RUNNING can be overdue.
        """
        now = now or datetime.now(timezone.utc)
        late = []
        for row in self.latest.values():
            if row.status is not TaskStatus.RUNNING or row.rowid is not None:
                continue
            started = parse_time(row.timestamp)
            if started is not None and (now - started).total_seconds() > self.timeout_of(row):
                late.append(row)
        return late

    def reader_for(self, row: TaskRun) -> LuteDbReader | None:
        """The database reader a row came from (for payloads and whole summaries)."""
        return next((r for r in self._db_readers if str(r.path) == row.source), None)

    def history(self, task: str, run: Any) -> list[TaskRun]:
        """Every execution of a Task for a run, oldest first (a FAILED try, then the rerun)."""
        key = run_key(run) if isinstance(run, str) else run
        rows = [r for r in self.executions if r.task == task and r.run_key == key]
        return sorted(rows, key=_order)

    def details(self, row: TaskRun) -> ExecutionDetails:
        """Parameters, environment and Executor of an execution (may read the database:
        call it off the UI thread).  A row whose database is gone gives what it carries."""
        reader = self.reader_for(row)
        if reader is None:
            return ExecutionDetails.of_v1_row(row)
        return reader.details(row)


def _run_sort_key(key: Any) -> tuple[int, Any]:
    """Numbers in numeric order, then labels that are not numbers."""
    return (1, key, "") if isinstance(key, int) else (0, 0, str(key))
