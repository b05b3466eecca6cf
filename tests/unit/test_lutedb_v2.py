"""LUTE's v2 database layout: the example LUTE's own v1 and v2 writers made (xcsl1004224,
both layouts in one file), and databases our writer makes following the v2 table layout
for what that example lacks (newer tables, placeholder parameters, odd statuses, broken
links)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.runs import run_key
from lute_model.sources.lutedb import LuteDbReader
from lute_model.status import TaskStatus, UnknownStatus
from lute_model.summary_text import report_paths, split_summary
from lute_writers.lute_schema import Execution, record_task
from lute_writers.lute_schema_v2 import insert_execution, insert_placeholder

DATA = Path(__file__).parents[1] / "data"
EXAMPLE = "xcsl1004224"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))["examples"][EXAMPLE]
FIRST_PARTY_ENV = {"LUTE_CONFIGPATH", "LUTE_PATH", "LUTE_DB_SPEC_VERSION", "SLURM_JOB_ID",
                   "SLURM_NPROCS", "SLURM_JOB_PARTITION", "SLURM_JOB_ACCOUNT"}


def _experiment(root: Path) -> Experiment:
    return Experiment(ExperimentSource(root.name, root, [root / "work_dir" / "lute.db"],
                                       root / "stats" / "summary"))


@pytest.fixture
def example(example_copy) -> Path:
    return example_copy(EXAMPLE)


# --- the example that spans a LUTE upgrade ------------------------------------------------------

def test_both_layouts_of_one_file_give_every_row_and_execution(example: Path):
    delta = LuteDbReader(example / "work_dir" / "lute.db").refresh()
    assert delta.ok and delta.problems == []
    assert delta.layouts == ["v1", "v2"]
    expected = {(row["layout"], task, row["id"]): row
                for task, info in MANIFEST["task_tables"].items() for row in info["rows_detail"]}
    found = {(row.layout, row.task, row.rowid): row for row in delta.rows}
    assert sorted(found) == sorted(expected)
    for key, detail in expected.items():
        row = found[key]
        assert row.status is TaskStatus[detail["status"]], key
        assert row.run == detail["run"], key
        assert row.summary == detail["summary"], key
        assert row.valid_flag == detail["valid_flag"], key
        if detail["payload"].startswith("<bytes "):
            assert (row.payload.kind, row.payload.text) == ("blob", None)
        else:
            assert row.payload.text == detail["payload"], key
        if row.layout == "v2":
            assert row.exec_cfg["name"] == detail["executor"], key
            assert row.gen_cfg["title"].startswith("LUTE Task Configuration - XCS")
    by_layout = Counter((row.layout, row.status.name) for row in delta.rows)
    for layout in ("v1", "v2"):
        assert {s: n for (lay, s), n in by_layout.items() if lay == layout} == \
            MANIFEST["layouts"][layout]["by_status"]
        assert sorted({run_key(r.run) for r in delta.rows if r.layout == layout}) == \
            MANIFEST["layouts"][layout]["runs"]


def test_a_shared_results_row_counts_once_per_execution(example: Path):
    rows = LuteDbReader(example / "work_dir" / "lute.db").refresh().rows
    for shared in MANIFEST["v2_shared_results"]:
        users = {(e["task"], e["execution_id"], e["run"]) for e in shared["executions"]}
        found = {(r.task, r.rowid, r.run) for r in rows if r.layout == "v2"}
        assert users <= found
    assert sum(r.layout == "v2" for r in rows) == MANIFEST["v2_tables"]["executions"]


def test_details_decode_json_parameters_and_read_the_environment_rows(example: Path):
    reader = LuteDbReader(example / "work_dir" / "lute.db")
    rows = reader.refresh().rows
    no_env = {(e["task"], e["id"]) for e in MANIFEST["v2_executions_without_environment"]}
    for row in rows:
        details = reader.details(row)
        if row.layout == "v1":
            assert details.task_parameters is row.parameters
            assert set(details.task_env) >= FIRST_PARTY_ENV - {"LUTE_DB_SPEC_VERSION"}
            continue
        detail = next(d for d in MANIFEST["task_tables"][row.task]["rows_detail"]
                      if d["layout"] == "v2" and d["id"] == row.rowid)
        assert len(details.task_parameters) == detail["n_parameters"]
        assert len(details.task_env) == detail["n_environment"]
        assert (not details.task_env) == ((row.task, row.rowid) in no_env)
        assert details.executor_name == detail["executor"]
        assert details.communicator_desc[-1].startswith(
            "SocketCommunicator: Communicates using ZMQ")
    read_output = next(r for r in rows if r.task == "TestReadOutput" and r.layout == "v2")
    assert reader.details(read_output).task_parameters["in_file"] == \
        "/sdf/data/lcls/ds/xcs/xcsl1004224/work_dir/jet_reference_values.txt"
    xss = next(r for r in rows if r.task == "AnalyzeSmallDataXSS" and r.layout == "v2")
    params = reader.details(xss).task_parameters
    assert isinstance(params["thresholds"], dict) and isinstance(params["scan_var"], list)


def test_a_same_second_rerun_is_ordered_by_id_and_the_rerun_is_the_status(example: Path):
    experiment = _experiment(example)
    experiment.refresh()
    tries = experiment.history("TestWriteOutput", "10")
    assert [(t.rowid, t.status) for t in tries] == [(8, TaskStatus.FAILED),
                                                    (9, TaskStatus.COMPLETED)]
    assert tries[0].timestamp == tries[1].timestamp
    assert experiment.latest[("TestWriteOutput", 10)].status is TaskStatus.COMPLETED
    assert experiment.layouts == {str(example / "work_dir" / "lute.db"): ["v1", "v2"]}


def test_pages_named_by_v2_results_are_linked_to_their_cells(example: Path):
    experiment = _experiment(example)
    experiment.refresh()
    for page in MANIFEST["summary_pages"]:
        cells = {(ref["table"], int(ref["run"])) for ref in page["db_refs"]}
        assert set(experiment.page_refs[page["display_name"]]) == cells, page["display_name"]


def test_whole_values_of_an_execution_are_read_on_request(example: Path):
    reader = LuteDbReader(example / "work_dir" / "lute.db")
    socket = next(r for r in reader.refresh().rows if r.task == "TestSocket" and r.layout == "v2")
    value = reader.read_value("TestSocket", socket.rowid, "result.payload", layout="v2")
    assert isinstance(value, bytes) and len(value) == 16_000 == socket.payload.size
    assert reader.read_value("TestSocket", socket.rowid, "summary", limit=4,
                             layout="v2") == "Sent"
    with pytest.raises(KeyError):
        reader.read_value("TestSocket", 999, "payload", layout="v2")


# --- what our writer makes in the v2 table layout ------------------------------------------------

def _write(db: Path, *executions: Execution, **options) -> list[int]:
    con = sqlite3.connect(db)
    with con:
        ids = [insert_execution(con, e, **options) for e in executions]
    con.close()
    return ids


def test_every_stored_form_of_a_status_reads_back(tmp_path: Path):
    db = tmp_path / "lute.db"
    forms = ["TaskStatus.COMPLETED", "COMPLETED", "completed", 2, "2", "TaskStatus.TIMEDOUT",
             6, "EXPLODED", ""]
    _write(db, *[Execution(task="Test", run=str(i), status=TaskStatus.COMPLETED,
                           stored_status=form) for i, form in enumerate(forms)])
    delta = LuteDbReader(db).refresh()
    statuses = [row.status for row in delta.rows]
    assert statuses[:7] == [TaskStatus.COMPLETED] * 5 + [TaskStatus.TIMEDOUT] * 2
    assert all(isinstance(s, UnknownStatus) for s in statuses[7:])
    assert any(m.message.startswith("2 new execution(s) have a status that is not")
               for m in delta.problems)


def test_refresh_reads_only_new_executions_and_new_lookup_rows(tmp_path: Path):
    db = tmp_path / "lute.db"
    _write(db, *[Execution(task=f"T{i % 3}", run=str(i), status=TaskStatus.COMPLETED)
                 for i in range(30)])
    reader = LuteDbReader(db)
    assert len(reader.refresh().rows) == 30
    assert reader.refresh().rows == []
    new = _write(db, *[Execution(task="Late", run=str(100 + i), status=TaskStatus.FAILED,
                                 experiment="other", executor="MPIExecutor")
                       for i in range(10)])
    delta = reader.refresh()
    assert [row.rowid for row in delta.rows] == new
    assert {(r.task, r.gen_cfg["experiment"], r.exec_cfg["name"]) for r in delta.rows} == {
        ("Late", "other", "MPIExecutor")}


def test_placeholder_parameters_with_no_execution_belong_to_none(tmp_path: Path):
    """Newer LUTE stores a Task's parameters when it starts, with a NULL execution_id, and
    links them when it ends; a Task that died leaves them unlinked."""
    db = tmp_path / "lute.db"
    con = sqlite3.connect(db)
    with con:
        insert_placeholder(con, {"in_file": "/dead/task.h5", "np": 4})
    con.close()
    (first,) = _write(db, Execution(task="Test", run="1", status=TaskStatus.COMPLETED,
                                    parameters={"np": 8}))
    reader = LuteDbReader(db)
    (row,) = reader.refresh().rows
    assert row.rowid == first
    assert reader.details(row).task_parameters == {"np": 8}
    # ... and parameters linked later (an UPDATE, not a new row) are seen when opened.
    with sqlite3.connect(db) as con:
        con.execute("UPDATE parameters SET execution_id = ? WHERE execution_id IS NULL",
                    (first,))
    con.close()
    assert reader.details(row).task_parameters == {"np": 8, "in_file": "/dead/task.h5"}


def test_executions_without_environment_rows_read_with_an_empty_environment(tmp_path: Path):
    db = tmp_path / "lute.db"
    _write(db, Execution(task="TestBinary", run="7", status=TaskStatus.COMPLETED,
                         parameters={"executable": "/bin/true"},
                         env={"SLURM_JOB_ID": "1", "HOME": "/root"}), environment=False)
    reader = LuteDbReader(db)
    (row,) = reader.refresh().rows
    details = reader.details(row)
    assert details.task_env == {} and details.task_parameters == {"executable": "/bin/true"}


def test_newer_tables_give_the_task_version_and_unknown_tables_are_tolerated(tmp_path: Path):
    db = tmp_path / "lute.db"
    _write(db, Execution(task="Test", run="3", status=TaskStatus.COMPLETED,
                         impl_schemas="HDF5"), task_version='{"git-sha": "abcd"}')
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE future_things (id INTEGER PRIMARY KEY, what TEXT)")
        con.execute("ALTER TABLE executions ADD COLUMN future_column TEXT")
    con.close()
    reader = LuteDbReader(db)
    delta = reader.refresh()
    assert delta.problems == [] and delta.layouts == ["v2"]
    (row,) = delta.rows
    assert row.impl_schemas == "HDF5"
    assert reader.details(row).task_version == '{"git-sha": "abcd"}'


def test_missing_tables_and_broken_links_are_shown_and_named(tmp_path: Path):
    db = tmp_path / "lute.db"
    _write(db, Execution(task="Test", run="3", status=TaskStatus.FAILED))
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO executions (task_id, config_id, result_id) VALUES (77, 1, 99)")
        con.execute("DROP TABLE parameter_types")
        con.execute("DROP TABLE schema")
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.ok
    first, broken = delta.rows
    assert (first.task, first.run, first.status) == ("Test", "3", TaskStatus.FAILED)
    assert broken.task == "Task #77" and isinstance(broken.status, UnknownStatus)
    text = " ".join(p.message for p in delta.problems)
    assert "not in the 'tasks' table" in text and "no 'results' row" in text


def test_a_file_with_both_layouts_from_our_writers_reads_both(tmp_path: Path):
    db = str(tmp_path / "lute.db")
    record_task(db, task="Test", run="1", status=TaskStatus.FAILED, timestamp="2025-01-01 10:00:00")
    record_task(db, task="Test", run="1", status=TaskStatus.COMPLETED, layout="v2",
                timestamp="2025-01-01 10:00:00")
    experiment = _experiment_of(tmp_path)
    experiment.refresh()
    assert [r.layout for r in experiment.history("Test", "1")] == ["v1", "v2"]
    assert experiment.latest[("Test", 1)].layout == "v2"  # the upgrade came later


def _experiment_of(folder: Path) -> Experiment:
    return Experiment(ExperimentSource(folder.name, folder, [folder / "lute.db"], None))


def test_a_database_of_neither_layout_is_one_clear_problem(tmp_path: Path):
    db = tmp_path / "lute.db"
    with sqlite3.connect(db) as con:
        for name in ("photos", "albums", "tags", "people", "places", "events", "notes"):
            con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.rows == [] and delta.layouts == []
    (problem,) = delta.problems
    assert "no LUTE results in a layout we know" in problem.message
    assert "and 2 more" in problem.message


def test_a_summary_stored_as_json_reads_as_its_pairs_and_paths():
    """LUTE 2025 on types a summary as Any; one stored as JSON shows as key/value."""
    text = json.dumps([{"Hit rate": 0.16, "Rsplit": [1.08, 0.92]},
                       "/sdf/data/lcls/ds/mfx/mfx1/stats/summary/r5/powders/report.html"])
    items = split_summary(text)
    assert [(i.kind, i.key, i.value) for i in items] == [
        ("pair", "Hit rate", "0.16"), ("pair", "Rsplit", "[1.08, 0.92]"),
        ("report", "", "/sdf/data/lcls/ds/mfx/mfx1/stats/summary/r5/powders/report.html")]
    assert report_paths(text) == [items[-1].value]
    assert [i.kind for i in split_summary("[1.0, 2.0]")] == ["text"]  # numbers stay text


def test_v2_tables_that_cannot_be_read_leave_the_v1_rows_shown(tmp_path: Path):
    db = str(tmp_path / "lute.db")
    record_task(db, task="Test", run="1", status=TaskStatus.COMPLETED)
    with sqlite3.connect(db) as con:  # an 'executions' table of no LUTE version
        con.execute("CREATE TABLE executions (task_id INTEGER, config_id INTEGER)")
        con.execute("CREATE TABLE config (run TEXT)")
        con.execute("INSERT INTO executions VALUES (1, 1)")
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.ok and [(r.task, r.layout) for r in delta.rows] == [("Test", "v1")]
    assert any("the v2 tables could not be read" in p.message for p in delta.problems)
