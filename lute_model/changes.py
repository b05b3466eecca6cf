"""What one refresh of an experiment changed, and the rule that merges rows into cells.

A cell is one Task for one run; many rows and events speak of it (a FAILED
try, the rerun, the journal's RUNNING before the database row).  The merge
rule says which one gives the cell its status; :class:`ExperimentChange` is
what a refresh publishes so that views patch only what changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from lute_model.results import TaskRun
from lute_model.sources.summary_tree import SummaryPage
from lute_model.status import AnyStatus

Cell = tuple[str, Any]  # (task, run key)


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
        cells: dict[Cell, None] = {}  # ordered sets: a burst merges thousands of changes
        runs: dict[Any, None] = {}
        tasks: dict[str, None] = {}
        for change in changes:
            merged.rows += change.rows
            merged.events += change.events
            cells.update(dict.fromkeys(change.cells))
            merged.transitions += change.transitions
            runs.update(dict.fromkeys(change.new_runs))
            tasks.update(dict.fromkeys(change.new_tasks))
            gone = set(change.removed_pages)
            merged.pages = [p for p in merged.pages if p.display_name not in gone]
            merged.pages += change.pages
            merged.removed_pages += change.removed_pages
        merged.cells, merged.new_runs, merged.new_tasks = list(cells), list(runs), list(tasks)
        return merged


#: Within one second, a row of the newer layout is the later word: LUTE upgrades one way.
_LAYOUT_RANK = {"v1": 1, "v2": 2}


def order_key(row: TaskRun) -> tuple[str, int, int, int]:
    """Sort key of the merge rule: latest by time; a database row is final.

    Database times have whole seconds while journal times have milliseconds,
    so a row counts as the end of its second: a journal event of the same
    second (the RUNNING that preceded it) never outranks it.  Two rows of one
    second (a rerun) are ordered by layout, then by id, which grows with time.
    """
    if row.rowid is None:
        return (row.timestamp, 0, 0, 0)
    return (row.timestamp + ".999999", 1, _LAYOUT_RANK.get(row.layout, 0), row.rowid)


def newer(a: TaskRun, b: TaskRun) -> bool:
    """Whether ``a`` is a later word on its cell than ``b``."""
    return order_key(a) >= order_key(b)


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


def run_sort_key(key: Any) -> tuple[int, Any]:
    """Numbers in numeric order, then labels that are not numbers."""
    return (1, key, "") if isinstance(key, int) else (0, 0, str(key))
