"""Trend values and run comparison, without a browser: the model side of both screens."""

from __future__ import annotations

from pathlib import Path

from lute_model.compare import MISSING, differences, flatten, parse_pair
from lute_model.status import TaskStatus
from lute_model.trends import parse_specs, specs_text, value_table
from lute_writers.lute_schema import record_task
from tests.support.experiments import read_experiment


def test_a_trend_holds_each_numeric_value_by_run_and_follows_new_rows(tmp_path: Path):
    db = tmp_path / "exp" / "work_dir" / "lute.db"
    db.parent.mkdir(parents=True)
    for run, rate in ((2, "0.5"), (1, "0.25"), ("calib", "0.9"), (3, "n/a")):
        record_task(str(db), task="FindPeaks", run=str(run), status=TaskStatus.COMPLETED,
                    summary=f"Number of hits: 10;Fractional hit rate: {rate}")
    experiment = read_experiment(tmp_path / "exp")
    table = value_table(experiment)
    assert table.choices(experiment.tasks) == [("FindPeaks", "Number of hits"),
                                              ("FindPeaks", "Fractional hit rate")]
    series = table.series(("FindPeaks", "Fractional hit rate"))
    assert (series.runs, series.values) == ([1, 2], [0.25, 0.5])  # labels and text left out

    record_task(str(db), task="FindPeaks", run="4", status=TaskStatus.COMPLETED, layout="v2",
                summary="Fractional hit rate: 0.75")
    experiment.refresh()  # the table follows the published cells on its own
    assert table.value("FindPeaks", 4, "Fractional hit rate") == 0.75
    assert table.series(("FindPeaks", "Fractional hit rate")).runs == [1, 2, 4]
    assert value_table(experiment) is table  # one per experiment, shared by sessions


def test_trend_links_round_trip_and_a_task_name_may_hold_a_colon():
    tasks = ["Index:v2", "FindPeaks"]
    specs = parse_specs("Index:v2:Indexing rate|FindPeaks:a:b|junk|FindPeaks:a:b", tasks)
    assert specs == [("Index:v2", "Indexing rate"), ("FindPeaks", "a:b")]
    assert parse_specs(specs_text(specs), tasks) == specs


def test_v1_flat_names_and_v2_trees_compare_alike():
    v1 = {"compound_var.int_var": 2, "compound_var.dict_var.sample": "Fe", "throw_error": 0,
          "x[0]": 1.0}
    v2 = {"compound_var": {"int_var": 2, "dict_var": {"sample": "Fe"}}, "throw_error": False,
          "x": [1.0]}
    assert flatten(v2) == v1
    assert differences(v1, v2) == []
    changed = differences(v1, {**v2, "compound_var": {"int_var": 3}, "new": "y"})
    assert changed == [("compound_var.int_var", 2, 3),
                       ("compound_var.dict_var.sample", "Fe", MISSING),
                       ("new", MISSING, "y")]


def test_a_compare_link_is_two_runs():
    assert parse_pair("r0012, 13") == (12, 13)
    assert parse_pair("12") is None and parse_pair("1,2,3") is None and parse_pair(",2") is None
