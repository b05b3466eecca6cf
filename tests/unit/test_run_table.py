"""The Runs table: runs × (Task status, Task · value), shared, patched per refresh.

The expected numbers are the example's summaries as LUTE wrote them
(cxil1005322: FindPeaksPyAlgos' hit rates, IndexCrystFEL's indexing rates).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import lute_model.trends as trends
from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.run_table import (
    LABEL,
    NUMBER,
    RUN,
    STATUS,
    TEXT,
    RunColumn,
    link_of,
    ready_run_table,
    refs_from_link,
    run_table,
)
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task

CXI = "cxil1005322"
HIT_RATE = ("FindPeaksPyAlgos", "Fractional hit rate")
INDEXING = ("IndexCrystFEL", "Indexing rate")


def _experiment(root: Path) -> Experiment:
    experiment = Experiment(ExperimentSource(root.name, root, [root / "work_dir" / "lute.db"],
                                             root / "stats" / "summary"))
    experiment.refresh()
    return experiment


def _value(table, run, ref):
    column = next(c for c in table.columns if c.ref == ref)
    return table.frame[column.key].iloc[table.runs.index(run)]


def _record(root: Path, run: str, summary: str, task: str = "FindPeaksPyAlgos",
            status: TaskStatus = TaskStatus.COMPLETED, layout: str = "v1") -> None:
    record_task(str(root / "work_dir" / "lute.db"), layout=layout, task=task, run=run,
                status=status, summary=summary, experiment=CXI)


@pytest.fixture
def cxi(example_copy) -> Path:
    return example_copy(CXI)


def test_a_row_per_run_and_the_values_each_tasks_summary_reports(cxi: Path):
    table = run_table(_experiment(cxi))
    assert sorted(table.runs) == [4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert len(table.frame) == 14
    assert list(table.frame[RUN].iloc[:3]) == [18.0, 17.0, 16.0]  # newest first
    assert _value(table, 7, HIT_RATE) == 0.30
    assert _value(table, 7, ("FindPeaksPyAlgos", "Number of hits found")) == 20782
    assert _value(table, 12, INDEXING) == 0.77
    assert math.isnan(_value(table, 10, HIT_RATE))  # FAILED: reported nothing
    assert _value(table, 10, ("FindPeaksPyAlgos", "")) == "FAILED"
    assert _value(table, 4, ("FindPeaksPyAlgos", "")) == ""  # never ran for run 4
    assert _value(table, 18, ("CompareHKL", "CCstar")) == "[0.945 0.9412599 4916 10.58 0.745 1.145]"


def test_columns_are_grouped_by_task_in_pipeline_order_and_the_default_is_numbers(cxi: Path):
    table = run_table(_experiment(cxi))
    tasks = [c.task for c in table.columns]
    assert tasks.index("FindPeaksPyAlgos") < tasks.index("IndexCrystFEL") < tasks.index(
        "DimpleSolve")
    assert [c.ref for c in table.columns if c.task == "FindPeaksPyAlgos"] == [
        ("FindPeaksPyAlgos", ""), ("FindPeaksPyAlgos", "Number of events processed"),
        ("FindPeaksPyAlgos", "Number of hits found"), HIT_RATE]
    kinds = {c.ref: c.kind for c in table.columns}
    assert kinds[HIT_RATE] == NUMBER and kinds[("IndexCrystFEL", "")] == STATUS
    assert kinds[("CompareHKL", "CCstar")] == TEXT  # an array is no number
    assert {c.kind for c in table.default_columns()} == {STATUS, NUMBER}
    assert len({c.key for c in table.columns}) == len(table.columns)


def test_every_session_gets_the_same_table_and_each_execution_is_parsed_once(
        cxi: Path, monkeypatch: pytest.MonkeyPatch):
    parsed: list[str] = []
    real = trends.values_of
    monkeypatch.setattr(trends, "values_of",
                        lambda summary: parsed.append(summary) or real(summary))
    experiment = _experiment(cxi)
    first = run_table(experiment)
    assert run_table(experiment) is first
    assert ready_run_table(experiment) is first
    built = len(parsed)
    assert built == len(experiment.latest)
    trends.value_table(experiment)  # the trends take the same parse
    assert len(parsed) == built

    _record(cxi, "19", "Fractional hit rate: 0.5")
    experiment.refresh()
    assert ready_run_table(experiment) is None  # something to apply: not ready
    second = run_table(experiment)
    assert len(parsed) == built + 1  # only the new row
    assert run_table(experiment) is second


def test_a_refresh_puts_new_runs_on_top_and_changes_rows_in_place_without_touching_the_old_table(
        cxi: Path):
    experiment = _experiment(cxi)
    before = run_table(experiment)
    old_frame = before.frame.copy()
    _record(cxi, "19", "Number of hits found: 100;Fractional hit rate: 0.5", layout="v2")
    _record(cxi, "12", "Fractional hit rate: 0.9")  # a rerun
    _record(cxi, "13", "", status=TaskStatus.FAILED)  # a failed rerun reports nothing
    experiment.refresh()
    after = run_table(experiment)
    assert after.runs[1:] == before.runs  # a new run goes on top, the others keep their order
    assert after.runs[0] == 19 and after.frame[LABEL].iloc[0] == "19"
    assert _value(after, 19, HIT_RATE) == 0.5
    assert _value(after, 12, HIT_RATE) == 0.9
    assert math.isnan(_value(after, 12, ("FindPeaksPyAlgos", "Number of hits found")))
    assert math.isnan(_value(after, 13, HIT_RATE))
    assert _value(after, 13, ("FindPeaksPyAlgos", "")) == "FAILED"
    assert before.frame.equals(old_frame)  # a published table never changes


def test_changes_nobody_asked_for_are_all_applied_at_the_next_ask(cxi: Path):
    experiment = _experiment(cxi)
    run_table(experiment)
    for run in ("19", "20", "21"):
        _record(cxi, run, f"Fractional hit rate: 0.{run}")
        experiment.refresh()
    table = run_table(experiment)
    assert [_value(table, r, HIT_RATE) for r in (19, 20, 21)] == [0.19, 0.20, 0.21]


def test_a_replaced_database_rebuilds_the_table(cxi: Path, tmp_path: Path):
    experiment = _experiment(cxi)
    run_table(experiment)
    database = cxi / "work_dir" / "lute.db"
    fresh = tmp_path / "lute.db"
    record_task(str(fresh), task="IndexCrystFEL", run="40", status=TaskStatus.COMPLETED,
                summary="Indexing rate: 0.6", experiment=CXI)
    fresh.replace(database)
    experiment.refresh()
    table = run_table(experiment)
    assert table.runs == (40,)
    assert [c.ref for c in table.columns] == [("IndexCrystFEL", ""), INDEXING]


def test_a_number_column_that_gets_text_shows_every_value_as_text(cxi: Path):
    experiment = _experiment(cxi)
    run_table(experiment)
    _record(cxi, "19", "Fractional hit rate: n/a (detector off)")
    experiment.refresh()
    table = run_table(experiment)
    column = next(c for c in table.columns if c.ref == HIT_RATE)
    assert column.kind == TEXT
    assert _value(table, 19, HIT_RATE) == "n/a (detector off)"
    assert _value(table, 7, HIT_RATE) == "0.3"
    assert _value(table, 4, HIT_RATE) == ""


def test_runs_that_are_labels_sort_as_no_number_and_keep_their_label(cxi: Path):
    _record(cxi, "dark_calib", "Fractional hit rate: 0")
    table = run_table(_experiment(cxi))
    row = table.runs.index("dark_calib")
    assert np.isnan(table.frame[RUN].iloc[row]) and table.frame[LABEL].iloc[row] == "dark_calib"
    assert row == len(table.runs) - 1  # below every numbered run


def test_text_from_disk_goes_through_the_callers_function(cxi: Path):
    _record(cxi, "dark", "Note: jet wobble", task="Notes")
    table = run_table(_experiment(cxi), text=str.upper)
    assert _value(table, "dark", ("Notes", "Note")) == "JET WOBBLE"
    assert table.frame[LABEL].iloc[table.runs.index("dark")] == "DARK"
    assert run_table(_experiment(cxi)) is not table  # another function, another table


@pytest.mark.parametrize("task, value", [
    ("FindPeaksPyAlgos", "Fractional hit rate"), ("Task:with,odd%chars", "a: b, c%"),
    ("Übersicht", "Δt (fs)"), ("Lone\udcffbyte", ""), ("Dimple", "")])
def test_a_columns_link_names_it_whatever_it_is_called(task: str, value: str):
    columns = [RunColumn("c0", task, value), RunColumn("c1", "Other", "x")]
    link = link_of(columns)
    assert refs_from_link(link) == [(task, value), ("Other", "x")]
    assert link.count(",") == 1


def test_a_link_keeps_only_the_columns_the_table_has(cxi: Path):
    table = run_table(_experiment(cxi))
    chosen = table.chosen("FindPeaksPyAlgos:Fractional hit rate,Gone:away,,IndexCrystFEL")
    assert [c.ref for c in chosen] == [HIT_RATE, ("IndexCrystFEL", "")]
    assert table.chosen("") == table.default_columns()
