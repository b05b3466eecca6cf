"""discover(): which folders are experiments, without walking raw-data trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from lute_model import discovery
from lute_model.discovery import discover
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task

DATA = Path(__file__).parents[1] / "data"


def _db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    record_task(str(path), task="Test", run="1", status=TaskStatus.COMPLETED)
    return path


def _summary(root: Path) -> Path:
    summary = root / "stats" / "summary"
    (summary / "scans" / "r1").mkdir(parents=True)
    (summary / "scans" / "r1" / "report.html").write_text("<html/>")
    return summary


@pytest.mark.parametrize("name", ["cxil1005322", "mfxp1001123"])
def test_example_folder_is_one_experiment(name):
    experiments, problems = discover([DATA / name])
    assert problems == []
    (experiment,) = experiments
    assert experiment.name == name
    assert experiment.root == DATA / name
    assert experiment.databases == [DATA / name / "work_dir" / "lute.db"]
    assert experiment.summary_dir == DATA / name / "stats" / "summary"


def test_folder_of_experiments_gives_each_child():
    experiments, problems = discover([DATA])
    assert problems == []
    names = ["cxil1005322", "mfxp1001123", "xcsl1004224"]
    assert [e.name for e in experiments] == names
    assert [e.databases for e in experiments] == [[DATA / n / "work_dir" / "lute.db"]
                                                  for n in names]


def test_experiment_name_comes_from_the_folder_even_when_given_as_dot(monkeypatch):
    monkeypatch.chdir(DATA / "mfxp1001123")
    (experiment,) = discover(["."])[0]
    assert experiment.name == "mfxp1001123"


def test_scratch_lute_db_is_found(tmp_path):
    db = _db(tmp_path / "exp" / "scratch" / "lute.db")
    (experiment,), problems = discover([tmp_path / "exp"])
    assert problems == []
    assert experiment.databases == [db]
    assert experiment.summary_dir is None


def test_lute_db_in_the_folder_itself_is_found(tmp_path):
    db = _db(tmp_path / "exp" / "lute.db")
    (experiment,), _ = discover([tmp_path / "exp"])
    assert experiment.databases == [db]


def test_deep_lute_db_three_levels_down_is_found(tmp_path):
    db = _db(tmp_path / "exp" / "a" / "b" / "c" / "lute.db")
    (experiment,), problems = discover([tmp_path / "exp"])
    assert problems == []
    assert (experiment.name, experiment.databases) == ("exp", [db])


def test_lute_db_four_levels_down_is_not_searched_for(tmp_path):
    _db(tmp_path / "exp" / "a" / "b" / "c" / "d" / "lute.db")
    experiments, problems = discover([tmp_path / "exp"])
    assert experiments == []
    assert "no LUTE results here" in problems[0].message


def test_summary_folder_alone_makes_an_experiment(tmp_path):
    summary = _summary(tmp_path / "exp")
    (experiment,), _ = discover([tmp_path / "exp"])
    assert experiment.summary_dir == summary
    assert experiment.databases == []


def test_experiment_with_summary_finds_its_work_dir_db_too(tmp_path):
    summary = _summary(tmp_path / "exp")
    db = _db(tmp_path / "exp" / "work_dir" / "lute" / "lute.db")
    (experiment,), _ = discover([tmp_path / "exp"])
    assert (experiment.summary_dir, experiment.databases) == (summary, [db])


@pytest.mark.parametrize("raw", ["xtc", "xtc2", "hdf5", "smalldata", "calib", "raw", ".hidden"])
def test_raw_data_and_hidden_folders_are_not_descended(raw, tmp_path):
    _db(tmp_path / "exp" / raw / "lute.db")
    _db(tmp_path / "exp" / "work_dir" / "lute.db")
    (experiment,), _ = discover([tmp_path / "exp"])
    assert experiment.databases == [tmp_path / "exp" / "work_dir" / "lute.db"]


def test_folder_of_only_raw_data_is_not_an_experiment(tmp_path):
    _db(tmp_path / "exp" / "xtc" / "lute.db")
    experiments, problems = discover([tmp_path / "exp"])
    assert experiments == []
    assert len(problems) == 1


def test_folder_with_more_than_max_listing_entries_is_not_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(discovery, "MAX_LISTING", 5)
    crowded = tmp_path / "exp" / "crowded"
    for index in range(6):
        (crowded / f"run{index}").mkdir(parents=True)
    _db(crowded / "run0" / "lute.db")
    experiments, problems = discover([tmp_path / "exp"])
    assert experiments == []
    assert len(problems) == 1


def test_folder_at_max_listing_entries_is_still_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(discovery, "MAX_LISTING", 6)
    crowded = tmp_path / "exp" / "crowded"
    for index in range(6):
        (crowded / f"run{index}").mkdir(parents=True)
    db = _db(crowded / "run0" / "lute.db")
    (experiment,), _ = discover([tmp_path / "exp"])
    assert experiment.databases == [db]


def test_explicit_db_and_summary_dir_override_what_is_found(tmp_path):
    db = _db(tmp_path / "elsewhere" / "copy.db")
    summary = _summary(tmp_path / "other")
    (experiment,), problems = discover([DATA / "mfxp1001123"], db=[db], summary_dir=summary)
    assert problems == []
    assert experiment.name == "mfxp1001123"
    assert experiment.databases == [db]
    assert experiment.summary_dir == summary


def test_explicit_db_without_a_path_names_the_experiment_after_its_folder(tmp_path):
    db = _db(tmp_path / "mfxl1013621" / "results.db")
    (experiment,), problems = discover([], db=[db])
    assert problems == []
    assert (experiment.name, experiment.databases, experiment.summary_dir) == (
        "mfxl1013621", [db], None)


def test_explicit_summary_dir_without_a_path_names_the_experiment_above_stats(tmp_path):
    summary = _summary(tmp_path / "cxil1005322")
    (experiment,), _ = discover([], summary_dir=summary)
    assert (experiment.name, experiment.summary_dir, experiment.databases) == (
        "cxil1005322", summary, [])


def test_empty_folder_is_a_problem(tmp_path):
    experiments, problems = discover([tmp_path])
    assert experiments == []
    (problem,) = problems
    assert problem.path == str(tmp_path)
    assert "no lute.db" in problem.message and "stats/summary" in problem.message


def test_missing_path_and_file_path_are_problems(tmp_path):
    (tmp_path / "lute.db").write_text("x")
    experiments, problems = discover([tmp_path / "nope", tmp_path / "lute.db"])
    assert experiments == []
    assert [p.message for p in problems] == [
        "path does not exist.", "a file, not a folder: use --db for a database file."]


def test_one_bad_path_does_not_hide_the_good_ones(tmp_path):
    experiments, problems = discover([tmp_path / "nope", DATA / "mfxp1001123"])
    assert [e.name for e in experiments] == ["mfxp1001123"]
    assert len(problems) == 1
