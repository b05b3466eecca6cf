"""The demo experiment: a LUTE result directory with everything the views must handle."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lute_demo.demo import DemoExperiment, build_demo
from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.status import TaskStatus

BASE_TABLES = {"gen_cfg", "exec_cfg", "sqlite_sequence"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoExperiment:
    """The demo with its default history in LUTE's v1 layout (whose tables these tests
    query), built once: it takes seconds."""
    return build_demo(tmp_path_factory.mktemp("demo") / "mfxdemo0125", layout="v1")


@pytest.fixture(scope="module")
def demo_v2(tmp_path_factory: pytest.TempPathFactory) -> DemoExperiment:
    """The demo as ``make demo`` writes it: LUTE's v2 layout; 12 runs hold every oddity."""
    return build_demo(tmp_path_factory.mktemp("demo") / "mfxdemo0225", runs=12)


def test_the_default_demo_is_stored_in_the_v2_layout_with_every_status(
        demo_v2: DemoExperiment) -> None:
    tables = {name for (name,) in _query(demo_v2.db_path,
                                         "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"executions", "results", "config", "parameters", "environment"} <= tables
    assert not tables & BASE_TABLES - {"sqlite_sequence"}
    experiment = Experiment(ExperimentSource(demo_v2.experiment, demo_v2.root,
                                             [demo_v2.db_path], demo_v2.summary_root))
    experiment.refresh()
    assert experiment.problems == []
    assert {row.status for row in experiment.executions} == set(TaskStatus)
    assert [r.status for r in experiment.history("FindPeaksPyAlgos", "8")] == [
        TaskStatus.FAILED, TaskStatus.COMPLETED]
    assert "r12/powders" in experiment.page_refs
    row = experiment.latest[("IndexCrystFEL", 9)]
    details = experiment.details(row)
    assert details.task_parameters["indexing"] and details.task_env["SLURM_JOB_PARTITION"]
    assert details.executor_name == "MPIExecutor"


def _query(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _task_tables(db: Path) -> list[str]:
    names = _query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return [name for (name,) in names if name not in BASE_TABLES]


def _statuses(db: Path) -> set[str]:
    return {status for table in _task_tables(db)
            for (status,) in _query(db, f'SELECT "result.task_status" FROM "{table}"')}


def _row_count(db: Path) -> int:
    return sum(_query(db, f'SELECT count(*) FROM "{table}"')[0][0] for table in _task_tables(db))


def _summary_texts(db: Path) -> str:
    return "\n".join(summary for table in _task_tables(db)
                     for (summary,) in _query(db, f'SELECT "result.summary" FROM "{table}"'))


def test_default_history_has_many_runs_and_an_sfx_pipeline(demo: DemoExperiment) -> None:
    runs = {int(run) for (run,) in _query(demo.db_path, "SELECT run FROM gen_cfg")}

    assert demo.experiment == "mfxdemo0125"
    assert len(runs) >= 30
    assert set(_task_tables(demo.db_path)) >= {
        "SubmitSMD", "OptimizeAgBhGeometryExhaustive", "FindPeaksPyAlgos", "IndexCrystFEL",
        "ConcatenateStreamFiles", "MergePartialator", "CompareHKL"}


def test_every_status_is_in_the_database(demo: DemoExperiment) -> None:
    assert _statuses(demo.db_path) == {status.name for status in TaskStatus}


def test_a_failed_run_is_rerun_and_completes(demo: DemoExperiment) -> None:
    tries = _query(demo.db_path, """
        SELECT t."result.task_status", t."result.summary" FROM FindPeaksPyAlgos t
        JOIN gen_cfg g ON g.id = t.gen_cfg_id WHERE g.run = '8' ORDER BY t.id""")

    assert [status for status, _ in tries] == ["FAILED", "COMPLETED"]
    assert "psana" in tries[0][1]


def test_a_parameter_added_later_is_a_column_after_valid_flag(demo: DemoExperiment) -> None:
    columns = [row[1] for row in _query(demo.db_path, "PRAGMA table_info(IndexCrystFEL)")]

    assert columns[columns.index("valid_flag") + 1:] == ["min_peaks"]
    assert "producer_parameters.getROIs.jungfrau4M[0].ROI[0][0][0]" in [
        row[1] for row in _query(demo.db_path, "PRAGMA table_info(SubmitSMD)")]


def test_summaries_hold_facility_paths_of_the_pages(demo: DemoExperiment) -> None:
    summaries = _summary_texts(demo.db_path)

    assert "/sdf/data/lcls/ds/mfx/mfxdemo0125/stats/summary/r12/powders/report.html" in summaries
    assert "Fractional hit rate: " in summaries
    assert "\nPENDING\n" in f"\n{summaries}\n"


def test_payloads_are_paths_empty_text_and_an_array(demo: DemoExperiment) -> None:
    kinds = {kind for table in _task_tables(demo.db_path) for (kind,) in _query(
        demo.db_path, f'SELECT typeof("result.payload") FROM "{table}"')}
    blob_size = _query(demo.db_path,
                       'SELECT length("result.payload") FROM AnalyzeSmallDataXSS')[0][0]

    assert kinds == {"text", "blob"}
    assert blob_size % 8 == 0


@pytest.mark.parametrize(("name", "marker"), [
    ("r12/powders", '"name":"TabPanel"'),               # a pn.Tabs
    ("calib/jungfrau4M/r0010", '"name":"Image"'),      # an hv.Image
    ("Geometry_Fit/r0003", "svg xmlns"),               # a matplotlib Figure
    ("scans/0005 jet x scan", "svg xmlns"),
])
def test_pages_of_each_figure_type_exist(demo: DemoExperiment, name: str, marker: str) -> None:
    page = demo.summary_root.joinpath(*name.split("/"), "report.html")

    html = page.read_text(encoding="utf-8")

    assert marker in html
    assert page.stat().st_size < 300_000


def test_lutes_empty_and_orphan_pages_exist(demo: DemoExperiment) -> None:
    summaries = _summary_texts(demo.db_path)
    empty = demo.summary_root / "indexing" / "r0012" / "report.html"
    orphan = demo.summary_root / "Geometry_Fit" / "r0002" / "report.html"

    assert empty.stat().st_size == 0
    assert "/stats/summary/indexing/r0012/report.html" in summaries
    assert orphan.stat().st_size > 0
    assert "Geometry_Fit/r0002" not in summaries


def test_build_refuses_an_existing_experiment(demo: DemoExperiment) -> None:
    with pytest.raises(FileExistsError):
        DemoExperiment(demo.root).build(3)


def test_advance_runs_a_new_run_through_running_to_a_final_status(tmp_path: Path) -> None:
    live = DemoExperiment(tmp_path / "mfxlive0125", seed=1, layout="v1")
    live.build(runs=1)
    rows_before = _row_count(live.db_path)

    events = [event for _ in range(6) for event in live.advance()]

    new_run = [event for event in events if event["run"] == "2"]
    statuses = [event["status"] for event in new_run if event["task"] == "SubmitSMD"]
    assert statuses[:2] == ["PENDING", "RUNNING"]
    assert statuses[2] in {"COMPLETED", "FAILED", "TIMEDOUT"}
    assert all(set(event) == {"time", "task", "run", "status", "message"} for event in events)
    assert events[0]["time"].endswith("+00:00")
    assert _row_count(live.db_path) > rows_before
    assert ("2",) in _query(live.db_path, "SELECT run FROM gen_cfg")


def test_a_demo_resumes_after_the_last_run_in_its_database(tmp_path: Path) -> None:
    DemoExperiment(tmp_path / "mfxlive0125").build(runs=1)

    resumed = build_demo(tmp_path / "mfxlive0125")
    first = resumed.advance()

    assert {event["run"] for event in first} == {"2"}
    assert {event["status"] for event in first} == {"PENDING"}


def test_a_demo_given_by_a_relative_path_resumes(tmp_path: Path, monkeypatch) -> None:
    """``make demo`` names its folder relatively; the live writer reopens it."""
    monkeypatch.chdir(tmp_path)
    DemoExperiment(Path("rel/mfxdemo0001")).build(runs=1)
    assert DemoExperiment(Path("rel/mfxdemo0001")).next_run == 2
