"""Values against run: what a trend draws, from each cell's latest execution.

A trend is one named value of one Task against run ("FindPeaksPyAlgos ·
Fractional hit rate"), as :func:`lute_model.values.values_of` reads it from
the summary of the cell's latest execution (``Experiment.latest``).

Parsing every summary again for each session, or on each refresh, would cost
what the experiment holds rather than what changed: one :class:`ValueTable`
per experiment, shared by every session, parses each execution once.  It
follows ``latest`` by identity (a published ``latest`` is replaced, never
changed in place): a watcher re-parses the cells a refresh names, and a
reader that finds the table behind (it asked before the watcher ran)
compares rows by identity, which re-parses only the rows that differ.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lute_model.changes import Cell
from lute_model.experiment import Experiment
from lute_model.results import TaskRun
from lute_model.values import Value, numeric_names, values_of

log = logging.getLogger(__name__)

#: One trend: (Task, value name).
Spec = tuple[str, str]
#: How a trend is written in a link: ``TASK:VALUE``, several joined by ``|``.
SPEC_SEPARATOR, SPECS_SEPARATOR = ":", "|"


def parse_specs(text: str, tasks: Iterable[str]) -> list[Spec]:
    """``TASK:VALUE|TASK:VALUE`` as specs, in order, each once.

    A Task name may hold ``:`` itself: the longest known Task before a ``:``
    wins; with no known Task, the text before the first ``:`` is taken.
    """
    known = set(tasks)
    specs: list[Spec] = []
    for item in text.split(SPECS_SEPARATOR):
        if SPEC_SEPARATOR not in item:
            continue
        cuts = [i for i, char in enumerate(item) if char == SPEC_SEPARATOR]
        cut = next((i for i in reversed(cuts) if item[:i] in known), cuts[0])
        spec = (item[:cut], item[cut + 1:])
        if spec[0] and spec[1] and spec not in specs:
            specs.append(spec)
    return specs


def specs_text(specs: Iterable[Spec]) -> str:
    """The link text of specs: the inverse of :func:`parse_specs`."""
    return SPECS_SEPARATOR.join(f"{task}{SPEC_SEPARATOR}{name}" for task, name in specs)


@dataclass(frozen=True)
class Series:
    """One trend's points, by run (ascending); runs that are not numbers are left out."""

    task: str
    name: str
    runs: list[int]
    values: list[float]


def number(value: Value | None) -> float | None:
    """The value as a float when it is a number (a bool is not)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class ValueTable:
    """The named values of every cell of one experiment, parsed once per execution."""

    def __init__(self, experiment: Experiment) -> None:
        self._experiment = weakref.ref(experiment)
        self._lock = threading.Lock()
        self._latest: dict[Cell, TaskRun] = {}
        self._rows: dict[Cell, TaskRun] = {}
        self._by_task: dict[str, dict[Any, dict[str, Value]]] = {}
        self._names: dict[str, dict[str, None]] = {}  # Task -> numeric names, first seen first
        self._version: dict[str, int] = {}  # Task -> bumped when one of its cells changes
        self._series: dict[Spec, tuple[int, Series]] = {}
        self._sync_all(experiment.latest)
        experiment.param.watch(self._published, "latest")

    def _published(self, event: Any) -> None:
        """On the refresh thread: parse only the cells the refresh names."""
        try:
            experiment = self._experiment()
            change = experiment.change if experiment is not None else None
            with self._lock:
                if event.old is self._latest and change is not None and not change.reset:
                    for cell in change.cells:
                        self._take(cell, event.new.get(cell))
                    self._latest = event.new
                else:
                    self._sync_locked(event.new)
        except Exception:  # never let a view's cache break the shared refresh
            log.exception("trend values could not follow a refresh")

    def sync(self) -> None:
        """Catch up with the experiment's published state (a no-op when already there)."""
        experiment = self._experiment()
        if experiment is not None and experiment.latest is not self._latest:
            self._sync_all(experiment.latest)

    def _sync_all(self, latest: dict[Cell, TaskRun]) -> None:
        with self._lock:
            self._sync_locked(latest)

    def _sync_locked(self, latest: dict[Cell, TaskRun]) -> None:
        if latest is self._latest:
            return
        for cell in [cell for cell in self._rows if cell not in latest]:
            self._take(cell, None)
        for cell, row in latest.items():
            if self._rows.get(cell) is not row:
                self._take(cell, row)
        self._latest = latest

    def _take(self, cell: Cell, row: TaskRun | None) -> None:
        task, run = cell
        if row is None:
            self._rows.pop(cell, None)
            self._by_task.get(task, {}).pop(run, None)
        else:
            self._rows[cell] = row
            values = values_of(row.summary)
            self._by_task.setdefault(task, {})[run] = values
            names = self._names.setdefault(task, {})
            for name in numeric_names(values):
                names.setdefault(name, None)
        self._version[task] = self._version.get(task, 0) + 1

    def choices(self, tasks: Iterable[str]) -> list[Spec]:
        """Every (Task, numeric value name) seen, Tasks in the given (pipeline) order."""
        with self._lock:
            return [(task, name) for task in tasks for name in self._names.get(task, {})]

    def value(self, task: str, run: Any, name: str) -> float | None:
        """One cell's value as a number, or None (no such cell, value or number)."""
        with self._lock:
            return number(self._by_task.get(task, {}).get(run, {}).get(name))

    def values(self, task: str, run: Any) -> dict[str, Value]:
        """Every named value of one cell (empty when it has none)."""
        with self._lock:
            return dict(self._by_task.get(task, {}).get(run, {}))

    def series(self, spec: Spec) -> Series:
        """The points of one trend; built once per state of its Task, shared by sessions."""
        task, name = spec
        with self._lock:
            version = self._version.get(task, 0)
            cached = self._series.get(spec)
            if cached is not None and cached[0] == version:
                return cached[1]
            points = sorted((run, value) for run, values in self._by_task.get(task, {}).items()
                            if isinstance(run, int)
                            and (value := number(values.get(name))) is not None)
            series = Series(task, name, [run for run, _ in points],
                            [value for _, value in points])
            self._series[spec] = (version, series)
            return series


_tables: weakref.WeakKeyDictionary[Experiment, ValueTable] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def value_table(experiment: Experiment) -> ValueTable:
    """The experiment's one table, made on first use (by whichever session asks first)."""
    with _tables_lock:
        table = _tables.get(experiment)
        if table is None:
            table = _tables[experiment] = ValueTable(experiment)
    table.sync()
    return table
