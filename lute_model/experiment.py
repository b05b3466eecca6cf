"""Experiment: the param state of one result directory, refreshed in place.

One Experiment per result directory per process: every browser session
watches the same object.  ``refresh()`` does the reading (off the UI thread)
and publishes what changed in one ``param.update``, as an
:class:`ExperimentChange`, so that views can patch only the cells, rows and
pages that changed.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import param

from lute_model.changes import (
    Cell,
    ExperimentChange,
    newer,
    order_key,
    pipeline_order,
    run_sort_key,
)
from lute_model.discovery import ExperimentSource
from lute_model.problems import Problem
from lute_model.results import DescribedAnalysis, TaskRun
from lute_model.runs import run_key
from lute_model.shared_cache import SharedCache
from lute_model.sources.journal import JOURNAL_NAME, JournalReader, parse_time
from lute_model.sources.lutedb import LuteDbReader
from lute_model.sources.summary_tree import SummaryPage, SummaryTreeReader
from lute_model.status import ALL_STATUSES, TaskStatus
from lute_model.summaries import split_report_path
from lute_model.summary_text import report_paths
from lute_model.timing import JournalMarks

__all__ = ["Cell", "Experiment", "ExperimentChange"]

JOURNAL_PROBLEMS = 20
#: LUTE's own default ``task_timeout`` (``AnalysisHeader``), for a Task whose own is not known.
LUTE_DEFAULT_TASK_TIMEOUT = 600.0
RECENT_KEPT = 100
HEARTBEAT = 1.0
#: Each experiment's status counts (``Experiment.counts``), by the ``latest`` they count.
_COUNTS: SharedCache[dict[str, int]] = SharedCache()


def _count(latest: dict) -> dict[str, int]:
    """How many of these cells are in each status, by status name."""
    counts = {status.name: 0 for status in ALL_STATUSES}
    for row in latest.values():
        counts[row.status.name] += 1
    return counts


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
        #: Per journal, when each cell was last queued and started (lute_model.timing).
        self.journal_marks = {str(journal.path): JournalMarks() for journal in self._journals}
        # Names LUTE recorded for this experiment (gen_cfg.experiment): report
        # paths under any of them belong here, even in a renamed copy.
        self._owners: set[str] = set()
        self._task_timeout: float | None = None
        #: Cells whose latest is a live RUNNING (a journal event): all that can be overdue.
        #: Replaced, never changed, so a reader may iterate the one it took.
        self._live_running: dict[tuple, TaskRun] = {}
        # Runs in ascending order and as a set, kept up to date in place (insort, not sort).
        self._runs_ascending: list[Any] = []
        self._run_set: set[Any] = set()

    @property
    def counts(self) -> dict[str, int]:
        """Current status of every (Task, run) cell, counted by status name.

        Counted once per published state (``latest`` is replaced, never changed
        in place), however many sessions ask; a refresh updates them by what
        changed.  A copy: the caller may change it.
        """
        latest = self.latest
        return dict(_COUNTS.get(self, (latest,), lambda _old: _count(latest)))

    def refresh(self) -> ExperimentChange:
        """Read what changed on disk and publish it; returns the change (maybe empty).

        Three steps, each costing what changed: read the databases and
        journals (:meth:`_read`), merge their new rows into the cells
        (:meth:`_merge`), look at the summary pages (:meth:`_read_pages`), and
        publish it all in one ``param.update`` (:meth:`_publish`).
        """
        change = ExperimentChange()
        layouts = self._read(change)
        if change.rows or change.events or change.reset:
            latest, page_refs, counts, named = self._merge(change)
        else:
            latest, page_refs, counts, named = self.latest, self.page_refs, None, set()
        pages = self._read_pages(change, named)
        self._publish(change, latest, page_refs, counts, pages, layouts)
        return change

    def _read(self, change: ExperimentChange) -> dict[str, list[str]]:
        """New database rows and journal events into ``change``; the layouts read."""
        layouts = self.layouts
        for reader in self._db_readers:
            delta = reader.refresh()
            key = str(reader.path)
            self._problems[key] = delta.problems
            if delta.ok and layouts.get(key) != delta.layouts:
                layouts = {**layouts, key: delta.layouts}
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
                self.journal_marks[key].clear()
                self._problems[key] = []
            if events.problems:  # bad lines stay reported (the last few): not read again
                self._problems[key] = (self._problems.get(key, []) +
                                       events.problems)[-JOURNAL_PROBLEMS:]
            for event in events.rows:
                cell = (event.task, event.run_key)
                if cell not in kept or newer(event, kept[cell]):
                    kept[cell] = event
            self.journal_marks[key].note(events.rows)
            change.events.extend(events.rows)
        if change.reset:
            change.rows = [row for rows in self._rows_by_db.values() for row in rows]
            change.events = [row for kept in self._journal_latest.values()
                             for row in kept.values()]
        return layouts

    def _merge(self, change: ExperimentChange) -> tuple[dict, dict, dict, set[str]]:
        """The cells after the change's rows (latest by the merge rule), the pages the rows
        name, and the status counts, updated by what changed (never recounted)."""
        # Copies (made in C, cheap): sessions may be reading the published ones.
        latest = {} if change.reset else dict(self.latest)
        page_refs: dict[str, list] = {} if change.reset else dict(self.page_refs)
        counts = ({status.name: 0 for status in ALL_STATUSES} if change.reset
                  else self.counts)
        named: set[str] = set()  # pages new rows name: the tree looks at them at once
        news = self.loaded  # the first read is no news: no transitions
        running = {} if change.reset else dict(self._live_running)
        for row in change.rows + change.events:
            cell = (row.task, row.run_key)
            current = latest.get(cell)
            if current is None or newer(row, current):
                latest[cell] = row
                change.cells.append(cell)
                if row.status is TaskStatus.RUNNING and row.rowid is None:
                    running[cell] = row
                else:
                    running.pop(cell, None)
                before = None if current is None else current.status
                if before is not None:
                    counts[before.name] -= 1
                counts[row.status.name] += 1
                if before != row.status and news:
                    change.transitions.append((row, before))
            timeout = row.gen_cfg.get("task_timeout")
            if isinstance(timeout, (int, float)) and timeout > 0:
                self._task_timeout = float(timeout)
            owner = row.gen_cfg.get("experiment")
            if owner:
                self._owners.add(str(owner))
            for name in self._pages_named(row):
                named.add(name)
                refs = page_refs.get(name, [])
                if cell not in refs:  # a list is replaced, never changed: O(new rows)
                    page_refs[name] = [*refs, cell]
        self._live_running = running
        return latest, page_refs, counts, named

    def _read_pages(self, change: ExperimentChange, named: set[str]) -> dict[str, SummaryPage]:
        """Look at the summary tree (what may have changed, and the pages rows named)."""
        if self._tree is None:
            return self.pages
        tree = self._tree.refresh(hints=named)
        self._problems["summary"] = tree.problems
        if not (tree.changed or tree.removed):
            return self.pages
        change.pages, change.removed_pages = tree.changed, tree.removed
        return self._tree.pages()

    def _publish(self, change: ExperimentChange, latest: dict, page_refs: dict,
                 counts: dict | None, pages: dict, layouts: dict) -> None:
        """Everything that changed, in one ``param.update``; an idle poll publishes nothing
        (and costs no param machinery) but a heartbeat at most once a second."""
        now = time.time()
        updates: dict[str, Any] = {} if self.loaded else {"loaded": True}
        # Every session hears of refreshed_at: say it when something changed, else
        # at most once a second (enough for "updated 2 s ago").
        if change or now - self.refreshed_at >= HEARTBEAT:
            updates["refreshed_at"] = now
        problems = [p for group in self._problems.values() for p in group]
        if problems != self.problems:
            updates["problems"] = problems
        if layouts is not self.layouts:
            updates["layouts"] = layouts
        if change:
            updates.update(self._derived(change, latest, page_refs, pages))
            if counts is not None:
                _COUNTS.put(self, (latest,), counts)
            if self.loaded and not change.reset and change.transitions:
                fresh = sorted(change.transitions, key=lambda t: order_key(t[0]), reverse=True)
                updates["recent"] = (fresh + self.recent)[:RECENT_KEPT]
        if updates:
            self.param.update(**updates)

    def _derived(self, change: ExperimentChange, latest: dict, page_refs: dict,
                 pages: dict) -> dict[str, Any]:
        """What follows from the merged cells: executions, runs (newest first), Tasks."""
        executions = (self.executions + change.rows if not change.reset
                      else [row for rows in self._rows_by_db.values() for row in rows])
        if change.reset:
            self._runs_ascending = sorted({cell[1] for cell in latest}, key=run_sort_key)
            added_runs = set(self._runs_ascending)
        else:
            # Cells are never removed without a reset: only the changed cells can add a run.
            known = self._run_set
            added_runs = {cell[1] for cell in change.cells if cell[1] not in known}
            for run in sorted(added_runs, key=run_sort_key):
                bisect.insort(self._runs_ascending, run, key=run_sort_key)
        self._run_set = set(self._runs_ascending)
        runs = self._runs_ascending[::-1] if added_runs else self.runs
        change.new_runs = [r for r in runs if r in added_runs] if added_runs else []
        tasks = self.tasks
        known_tasks = set(tasks)
        if change.reset or any(cell[0] not in known_tasks for cell in change.cells):
            tasks = pipeline_order(executions + [r for r in latest.values() if r.rowid is None])
            change.new_tasks = [t for t in tasks if t not in known_tasks or change.reset]
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
        for row in self._live_running.values():  # not every cell: this runs every second
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
        return sorted(rows, key=order_key)

    def details(self, row: TaskRun) -> DescribedAnalysis:
        """Parameters, environment and Executor of an execution (may read the database:
        call it off the UI thread).  A row whose database is gone gives what it carries."""
        reader = self.reader_for(row)
        if reader is None:
            return DescribedAnalysis.of_v1_row(row)
        return reader.details(row)
