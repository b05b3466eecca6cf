"""LuteDbReader against the databases LUTE wrote and against bad, busy and odd ones."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.results import TaskRun
from lute_model.runs import run_key
from lute_model.sources.lutedb import SUMMARY_KEEP, LuteDbReader
from lute_model.status import TaskStatus, UnknownStatus
from lute_model.summary_text import SummaryItem, report_paths, split_summary
from lute_writers.lute_schema import record_task

DATA = Path(__file__).parents[1] / "data"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))["examples"]
#: The examples in LUTE's v1 layout only (xcsl1004224 holds both: see test_lutedb_v2.py).
EXAMPLES = sorted(name for name in MANIFEST if "layouts" not in MANIFEST[name])
#: id, timestamp, gen_cfg_id, exec_cfg_id, the four result.* columns and valid_flag.
FIXED_COLUMN_COUNT = 9


def _db(example: Path) -> Path:
    return example / "work_dir" / "lute.db"


def _by_table(rows: list[TaskRun]) -> dict[str, dict[int, TaskRun]]:
    tables: dict[str, dict[int, TaskRun]] = {}
    for row in rows:
        tables.setdefault(row.task, {})[row.rowid] = row
    return tables


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file below ``folder``: its bytes' hash and mtime_ns."""
    return {
        str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(),
                                        path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def _experiment(root: Path, db: Path | None = None) -> Experiment:
    summary = root / "stats" / "summary"
    return Experiment(ExperimentSource(root.name, root, [db or _db(root)],
                                       summary if summary.is_dir() else None))


# --- the two examples LUTE wrote --------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_every_row_of_every_table_is_read_with_its_status_and_run(name, example_copy):
    expected = MANIFEST[name]["task_tables"]
    delta = LuteDbReader(_db(example_copy(name))).refresh()
    assert delta.ok
    assert delta.problems == []
    assert delta.tables == sorted(expected)
    tables = _by_table(delta.rows)
    assert sorted(tables) == sorted(expected)
    for table, info in expected.items():
        rows = tables[table]
        assert len(rows) == info["rows"], table
        assert sorted(rows) == [detail["id"] for detail in info["rows_detail"]]
        for detail in info["rows_detail"]:
            row = rows[detail["id"]]
            assert row.status is TaskStatus[detail["status"]], (table, detail)
            assert row.run == detail["run"], (table, detail)
            assert row.summary == detail["summary"], (table, detail)
            assert row.summary_size == len(detail["summary"].encode())  # bytes
            assert row.valid_flag == (1 if detail["status"] == "COMPLETED" else 0)
            if detail["payload"].startswith("<bytes "):
                assert row.payload.kind == "blob"
                assert row.payload.text is None
            else:
                assert row.payload.text == detail["payload"], (table, detail)
        assert sorted({run_key(r.run) for r in rows.values()}) == info["runs"]
        counts: dict[str, int] = {}
        for row in rows.values():
            counts[row.status.name] = counts.get(row.status.name, 0) + 1
        assert counts == info["by_status"]
        assert sum(r.valid_flag == 1 for r in rows.values()) == info["valid_flag_1"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_rows_carry_flattened_parameters_and_their_gen_cfg_and_exec_cfg(name, example_copy):
    expected = MANIFEST[name]["task_tables"]
    rows = LuteDbReader(_db(example_copy(name))).refresh().rows
    for row in rows:
        assert len(row.parameters) == expected[row.task]["n_columns"] - FIXED_COLUMN_COUNT
        assert not set(row.parameters) & {"id", "timestamp", "valid_flag", "result.summary"}
        assert row.gen_cfg["experiment"] == name
        assert row.gen_cfg["run"] == row.run
        assert row.exec_cfg["env"].startswith("LUTE_CONFIGPATH=/sdf/data/lcls/ds/")
        assert row.exec_cfg["poll_interval"] == 0.05
        assert row.source.endswith("work_dir/lute.db")
        assert row.timestamp[:2] == "20" and len(row.timestamp) == 19


def test_test_task_parameters_are_the_flattened_dict_names(example_copy):
    rows = _by_table(LuteDbReader(_db(example_copy("mfxp1001123"))).refresh().rows)["Test"]
    assert set(rows[1].parameters) == {
        "float_var", "str_var", "compound_var.int_var", "compound_var.dict_var.sample",
        "throw_error", "compound_var.dict_var.nozzle"}
    assert rows[1].parameters["compound_var.dict_var.sample"] == "buffer"


def test_column_added_after_valid_flag_is_null_on_older_rows_and_set_on_runs_35_36(example_copy):
    rows = _by_table(LuteDbReader(_db(example_copy("mfxp1001123"))).refresh().rows)["Test"]
    nozzle = {row.run: row.parameters["compound_var.dict_var.nozzle"] for row in rows.values()}
    assert nozzle == {"21": None, "22": None, "23": None, "24": None, "29": None, "30": None,
                      "31": None, "34": None, "35": "GDVN 75 um", "36": "GDVN 75 um"}
    assert {row.parameters["str_var"] for row in rows.values() if row.run in {"35", "36"}} == {
        "commissioning, new nozzle"}


def test_blob_payload_size_is_known_but_it_is_only_read_on_request(example_copy):
    reader = LuteDbReader(_db(example_copy("mfxp1001123")))
    (socket,) = [row for row in reader.refresh().rows if row.task == "TestSocket"]
    assert socket.payload.kind == "blob"
    assert socket.payload.size == 320_000
    assert socket.payload.text is None
    value = reader.read_value("TestSocket", socket.rowid, "result.payload")
    assert isinstance(value, bytes) and len(value) == 320_000
    preview = reader.read_value("TestSocket", socket.rowid, "result.payload", limit=64)
    assert preview == value[:64]


def test_read_value_of_an_unknown_table_column_or_row_is_a_key_error(example_copy):
    reader = LuteDbReader(_db(example_copy("mfxp1001123")))
    with pytest.raises(KeyError):
        reader.read_value("TestSocket", 1, "no such column")
    with pytest.raises(KeyError):
        reader.read_value("TestSocket", 999, "result.payload")
    with pytest.raises(KeyError):
        reader.read_value("NoSuchTask", 1, "result.payload")


def test_failed_try_then_rerun_of_one_run_shows_history_and_latest(example_copy):
    experiment = _experiment(example_copy("cxil1005322"))
    experiment.refresh()
    history = experiment.history("DimpleSolve", "18")
    assert [row.status for row in history] == [TaskStatus.FAILED, TaskStatus.COMPLETED]
    assert experiment.latest[("DimpleSolve", 18)].status is TaskStatus.COMPLETED
    assert len(experiment.executions) == 31


# --- incremental reading ----------------------------------------------------------------------

def test_refresh_after_new_rows_returns_only_the_new_rows(example_copy):
    db = _db(example_copy("mfxp1001123"))
    reader = LuteDbReader(db)
    assert len(reader.refresh().rows) == 17
    assert reader.refresh().rows == []
    new_ids = [
        record_task(str(db), task="Test", run="38", status=TaskStatus.COMPLETED,
                    summary="Test Finished.", experiment="mfxp1001123",
                    parameters={"float_var": 0.5, "str_var": "again"}),
        record_task(str(db), task="TestBinary", run="38", status=TaskStatus.FAILED,
                    experiment="mfxp1001123", parameters={"executable": "/bin/true"}),
        record_task(str(db), task="FindPeaksPyAlgos", run="38", status=TaskStatus.RUNNING,
                    experiment="mfxp1001123", parameters={"n_events": 10}),
    ]
    delta = reader.refresh()
    assert delta.ok and not delta.reset
    assert sorted((row.task, row.rowid, row.run, row.status.name) for row in delta.rows) == [
        ("FindPeaksPyAlgos", new_ids[2], "38", "RUNNING"),
        ("Test", new_ids[0], "38", "COMPLETED"),
        ("TestBinary", new_ids[1], "38", "FAILED"),
    ]
    assert new_ids[:2] == [11, 5]
    assert "FindPeaksPyAlgos" in delta.tables
    assert reader.refresh().rows == []


def test_experiment_refresh_adds_only_the_new_rows(example_copy):
    root = example_copy("cxil1005322")
    experiment = _experiment(root)
    experiment.refresh()
    record_task(str(_db(root)), task="IndexCrystFEL", run="10", status=TaskStatus.COMPLETED,
                experiment="cxil1005322", summary="Number of lattices indexed: 3")
    change = experiment.refresh()
    assert [(row.task, row.run) for row in change.rows] == [("IndexCrystFEL", "10")]
    assert change.cells == [("IndexCrystFEL", 10)]
    assert len(experiment.executions) == 32
    assert not experiment.refresh()


def test_rows_committed_while_the_reader_was_closed_are_read_after_it_reopens(example_copy):
    db = _db(example_copy("mfxp1001123"))
    reader = LuteDbReader(db)
    assert len(reader.refresh().rows) == 17
    reader.close()
    record_task(str(db), task="Test", run="40", status=TaskStatus.COMPLETED)
    assert [(row.task, row.run) for row in reader.refresh().rows] == [("Test", "40")]
    assert reader.refresh().rows == []


@pytest.mark.parametrize("status", list(TaskStatus))
def test_every_status_written_by_record_task_reads_back(status, tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="0012", status=status, summary=status.name.lower())
    (row,) = LuteDbReader(db).refresh().rows
    assert row.status is status
    assert row.run == "0012" and row.run_key == 12
    assert row.valid_flag == (1 if status is TaskStatus.COMPLETED else 0)


def test_a_replaced_database_file_is_read_again_from_the_start(example_copy, tmp_path):
    db = _db(example_copy("mfxp1001123"))
    reader = LuteDbReader(db)
    assert len(reader.refresh().rows) == 17
    other = tmp_path / "other.db"
    record_task(str(other), task="Test", run="1", status=TaskStatus.FAILED)
    os.replace(other, db)
    delta = reader.refresh()
    assert delta.reset
    assert [(row.task, row.run, row.status) for row in delta.rows] == [
        ("Test", "1", TaskStatus.FAILED)]


# --- schema drift and odd values --------------------------------------------------------------

def test_extra_unknown_column_is_read_as_a_parameter(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="1", status=TaskStatus.COMPLETED,
                parameters={"float_var": 1.0})
    with sqlite3.connect(db) as con:
        con.execute('ALTER TABLE Test ADD COLUMN "mystery column" TEXT')
        con.execute('INSERT INTO Test (gen_cfg_id, exec_cfg_id, "result.task_status", '
                    '"result.summary", "mystery column") VALUES (1, 1, \'FAILED\', \'x\', \'42\')')
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.ok and delta.problems == []
    assert [(row.status, row.parameters) for row in delta.rows] == [
        (TaskStatus.COMPLETED, {"float_var": 1.0, "mystery column": None}),
        (TaskStatus.FAILED, {"float_var": None, "mystery column": "42"}),
    ]


def test_task_table_without_summary_is_read_and_reported(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="3", status=TaskStatus.COMPLETED)
    with sqlite3.connect(db) as con:
        con.execute('CREATE TABLE OldTask(id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp '
                    'DATETIME DEFAULT CURRENT_TIMESTAMP, gen_cfg_id INTEGER, exec_cfg_id INTEGER, '
                    '"result.task_status" TEXT, "result.payload" BLOB, valid_flag INTEGER)')
        con.execute('INSERT INTO OldTask (gen_cfg_id, "result.task_status") VALUES (1, "FAILED")')
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.ok
    (old,) = [row for row in delta.rows if row.task == "OldTask"]
    assert (old.status, old.run, old.summary, old.summary_size) == (TaskStatus.FAILED, "3", "", 0)
    assert old.impl_schemas is None
    messages = [p.message for p in delta.problems]
    assert any("'OldTask'" in m and "result.summary" in m for m in messages), messages
    assert not any("result.payload" in m for m in messages)


def test_non_task_table_is_reported_and_the_task_tables_still_read(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="3", status=TaskStatus.COMPLETED)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)")
        con.execute("INSERT INTO notes(text) VALUES ('beam dump at 03:12')")
    con.close()
    reader = LuteDbReader(db)
    delta = reader.refresh()
    assert delta.ok
    assert [row.task for row in delta.rows] == ["Test"]
    assert delta.tables == ["Test"]
    assert len(delta.problems) == 1
    assert "'notes'" in delta.problems[0].message
    assert "not a LUTE Task table" in delta.problems[0].message
    # The problem stays listed on refreshes with nothing new.
    assert [p.message for p in reader.refresh().problems] == [delta.problems[0].message]


def test_task_table_without_gen_cfg_is_read_with_an_empty_run(tmp_path):
    db = tmp_path / "lute.db"
    with sqlite3.connect(db) as con:
        con.execute('CREATE TABLE Test(id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, '
                    'gen_cfg_id INTEGER, exec_cfg_id INTEGER, "result.task_status" TEXT, '
                    '"result.summary" TEXT, "result.payload" BLOB, "result.impl_schemas" TEXT, '
                    'valid_flag INTEGER)')
        con.execute('INSERT INTO Test (gen_cfg_id, "result.task_status") VALUES (7, "COMPLETED")')
    con.close()
    delta = LuteDbReader(db).refresh()
    assert [(row.run, row.status) for row in delta.rows] == [("", TaskStatus.COMPLETED)]
    assert any("'gen_cfg' is missing" in p.message for p in delta.problems)


def test_unknown_status_words_and_integer_statuses_are_read(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="1", status=TaskStatus.COMPLETED)
    stored = ["EXPLODED", 2, "3", "TaskStatus.TIMEDOUT", "cancelled", 99, None, ""]
    with sqlite3.connect(db) as con:
        con.executemany('INSERT INTO Test (gen_cfg_id, "result.task_status") VALUES (1, ?)',
                        [(value,) for value in stored])
    con.close()
    delta = LuteDbReader(db).refresh()
    statuses = [row.status for row in delta.rows[1:]]
    assert statuses[1:5] == [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.TIMEDOUT,
                             TaskStatus.CANCELLED]
    unknown = [statuses[0], *statuses[5:]]
    assert all(isinstance(s, UnknownStatus) for s in unknown)
    assert [s.raw for s in unknown] == ["EXPLODED", "99", "", ""]
    messages = [p.message for p in delta.problems]
    assert any(m.startswith("4 new row(s) of 'Test'") and "UNKNOWN" in m for m in messages)


def test_table_with_quotes_and_spaces_in_its_name_is_read(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task='My "odd" Task', run="5", status=TaskStatus.STOPPED,
                parameters={"a b": 1})
    (row,) = LuteDbReader(db).refresh().rows
    assert (row.task, row.status, row.parameters) == ('My "odd" Task', TaskStatus.STOPPED,
                                                      {"a b": 1})


def test_empty_task_table_gives_no_rows_and_no_problem(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="5", status=TaskStatus.COMPLETED)
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM Test")
    con.close()
    delta = LuteDbReader(db).refresh()
    assert delta.ok and delta.rows == [] and delta.problems == [] and delta.tables == ["Test"]


# --- a busy, damaged or absent database -------------------------------------------------------

def test_locked_database_keeps_the_previous_rows_and_reads_again_after_release(example_copy):
    root = example_copy("mfxp1001123")
    db = _db(root)
    experiment = _experiment(root)
    experiment.refresh()
    assert len(experiment.executions) == 17
    (reader,) = experiment._db_readers
    reader.busy_timeout = 0.2
    reader.close()  # reconnect with the short timeout

    writer = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute('INSERT INTO Test (gen_cfg_id, "result.task_status") VALUES (17, "FAILED")')
        locked.set()
        release.wait(10)
        writer.execute("COMMIT")

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        delta = LuteDbReader(db, busy_timeout=0.2).refresh()
        assert time.monotonic() - started < 10, "the reader waited for the writer"
        assert not delta.ok
        assert delta.rows == []
        assert any("busy" in p.message for p in delta.problems), delta.problems

        change = experiment.refresh()
        assert not change.rows
        assert len(experiment.executions) == 17
        assert experiment.latest[("Test", 21)].status is TaskStatus.PENDING
        assert any("busy" in p.message for p in experiment.problems)
    finally:
        release.set()
        holder.join(10)
        writer.close()

    change = experiment.refresh()
    assert [(row.task, row.run, row.status) for row in change.rows] == [
        ("Test", "37", TaskStatus.FAILED)]
    assert len(experiment.executions) == 18
    assert not any("busy" in p.message for p in experiment.problems)


def test_truncated_database_is_a_problem_not_an_exception(example_copy):
    db = _db(example_copy("mfxp1001123"))
    size = db.stat().st_size
    with open(db, "r+b") as handle:
        handle.truncate(size // 2)
    delta = LuteDbReader(db).refresh()
    assert not delta.ok
    assert delta.rows == []
    assert len(delta.problems) == 1
    assert "damaged" in delta.problems[0].message


def test_truncated_database_after_a_good_read_keeps_experiment_rows(example_copy):
    root = example_copy("cxil1005322")
    experiment = _experiment(root, _db(root))
    experiment.refresh()
    db = _db(root)
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size // 3)
    change = experiment.refresh()
    assert not change.rows and not change.reset
    assert len(experiment.executions) == 31
    assert any("damaged" in p.message for p in experiment.problems)


def test_text_file_named_lute_db_is_not_an_sqlite_database(tmp_path):
    db = tmp_path / "lute.db"
    db.write_text("run,status\n12,COMPLETED\n" * 100)
    delta = LuteDbReader(db).refresh()
    assert not delta.ok and delta.rows == []
    assert [p.message for p in delta.problems] == [
        "lute.db is not an SQLite database (wrong file header)."]
    assert delta.problems[0].path == str(db)


def test_zero_byte_lute_db_is_empty_not_broken(tmp_path):
    db = tmp_path / "lute.db"
    db.touch()
    delta = LuteDbReader(db).refresh()
    assert not delta.ok
    assert "empty (0 bytes)" in delta.problems[0].message
    assert db.stat().st_size == 0


def test_missing_lute_db_is_reported_and_read_once_it_appears(tmp_path):
    db = tmp_path / "lute.db"
    reader = LuteDbReader(db)
    delta = reader.refresh()
    assert not delta.ok and "missing" in delta.problems[0].message
    assert not db.exists()
    record_task(str(db), task="Test", run="1", status=TaskStatus.COMPLETED)
    delta = reader.refresh()
    assert delta.ok and [row.task for row in delta.rows] == ["Test"]


def test_folder_named_lute_db_is_a_problem(tmp_path):
    (tmp_path / "lute.db").mkdir()
    delta = LuteDbReader(tmp_path / "lute.db").refresh()
    assert not delta.ok and "folder" in delta.problems[0].message


# --- large values -----------------------------------------------------------------------------

def test_50_mb_payload_is_measured_not_loaded(tmp_path):
    db = tmp_path / "lute.db"
    size = 50 * 2**20
    payload = b"\x01" * size
    rowid = record_task(str(db), task="TestSocket", run="32", status=TaskStatus.COMPLETED,
                        summary="Sent 1 array", payload=payload)
    del payload
    reader = LuteDbReader(db)
    tracemalloc.start()
    try:
        delta = reader.refresh()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (row,) = delta.rows
    assert row.payload.kind == "blob"
    assert row.payload.size == size
    assert row.payload.text is None
    assert peak < 5 * 2**20, f"first refresh allocated {peak / 2**20:.1f} MB"
    preview = reader.read_value("TestSocket", rowid, "result.payload", limit=1024)
    assert preview == b"\x01" * 1024


def test_10_mb_summary_is_kept_truncated_with_its_full_size(tmp_path):
    db = tmp_path / "lute.db"
    summary = "Hit rate: 0.1;" + "x" * (10 * 2**20)
    rowid = record_task(str(db), task="Test", run="9", status=TaskStatus.COMPLETED,
                        summary=summary)
    reader = LuteDbReader(db)
    (row,) = reader.refresh().rows
    assert len(row.summary) == SUMMARY_KEEP
    assert summary.startswith(row.summary)
    assert row.summary_size == len(summary)
    assert reader.read_value("Test", rowid, "result.summary") == summary


def test_a_nul_in_a_summary_does_not_cut_it_short(tmp_path):
    """SQLite's text functions stop at a NUL: the summary is read as bytes."""
    db = tmp_path / "lute.db"
    summary = "before\x00after;Hit rate: 0.5 é"
    rowid = record_task(str(db), task="Test", run="9", status=TaskStatus.COMPLETED,
                        summary=summary)
    reader = LuteDbReader(db)
    (row,) = reader.refresh().rows
    assert row.summary == summary and row.summary_size == len(summary.encode())
    assert reader.read_value("Test", rowid, "result.summary") == summary
    assert reader.read_value("Test", rowid, "result.summary", limit=8) == "before\x00a"


def test_large_text_payload_is_not_kept_but_short_paths_are(tmp_path):
    db = tmp_path / "lute.db"
    record_task(str(db), task="Test", run="1", status=TaskStatus.COMPLETED,
                payload="/sdf/data/lcls/ds/mfx/x/stats/summary/a/report.html;" * 2000)
    record_task(str(db), task="Test", run="2", status=TaskStatus.COMPLETED,
                payload="/sdf/data/lcls/ds/mfx/x/stats/summary/b/report.html")
    big, small = LuteDbReader(db).refresh().rows
    assert (big.payload.kind, big.payload.text) == ("text", None)
    assert big.payload.size == len("/sdf/data/lcls/ds/mfx/x/stats/summary/a/report.html;") * 2000
    assert small.payload.text == "/sdf/data/lcls/ds/mfx/x/stats/summary/b/report.html"


# --- summaries --------------------------------------------------------------------------------

def _mfx_rows(example_copy) -> dict[str, TaskRun]:
    rows = LuteDbReader(_db(example_copy("mfxp1001123"))).refresh().rows
    return {row.run: row for row in rows if row.task == "Test"}


def test_multi_line_summary_with_a_semicolon_is_kept_as_one_text(example_copy):
    summary = _mfx_rows(example_copy)["29"].summary
    assert summary == ("Commissioning check passed\nJet stable: yes\n"
                       "Notes: nozzle re-centred at 03:12; OK")
    assert split_summary(summary) == [SummaryItem("text", value=summary)]
    assert report_paths(summary) == []


def test_summary_list_gives_pairs_and_the_report_path(example_copy):
    summary = _mfx_rows(example_copy)["30"].summary
    path = ("/sdf/data/lcls/ds/mfx/mfxp1001123/stats/summary/calib/jungfrau1M/gain modes/"
            "r0030/report.html")
    assert split_summary(summary) == [
        SummaryItem("pair", "Operator notes", "jet wobble\nswitched to backup line"),
        SummaryItem("pair", "Hit rate", "0.08"),
        SummaryItem("report", value=path),
    ]
    assert report_paths(summary) == [path]


def test_report_paths_are_found_in_the_payload_too(example_copy):
    row = _mfx_rows(example_copy)["31"]
    assert report_paths(row.summary, row.payload.text) == [
        f"/sdf/data/lcls/ds/mfx/mfxp1001123/stats/summary/{name}/report.html"
        for name in ("Übersicht/Probenhalter r0031", "Δt-Scan (fs)/r0031", "サンプル/r0031")]


def test_numpy_array_summary_keeps_its_newline(example_copy):
    rows = LuteDbReader(_db(example_copy("cxil1005322"))).refresh().rows
    (compare,) = [row for row in rows if row.task == "CompareHKL"]
    items = split_summary(compare.summary)
    assert items[0].kind == "pair" and items[0].key == "CCstar"
    assert items[0].value.endswith("\n 1.145000e+00]")
    assert items[1] == SummaryItem(
        "report", value="/sdf/data/lcls/ds/cxi/cxil1005322/stats/summary/r18/CCstar/report.html")


def test_split_summary_glues_a_semicolon_inside_a_value_back():
    assert split_summary("Notes: a; b;Hit rate: 0.3") == [
        SummaryItem("pair", "Notes", "a; b"), SummaryItem("pair", "Hit rate", "0.3")]
    assert split_summary("PENDING") == [SummaryItem("text", value="PENDING")]
    assert split_summary("") == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_experiment_links_every_page_to_the_rows_that_name_it(name, example_copy):
    experiment = _experiment(example_copy(name))
    experiment.refresh()
    expected = {
        page["display_name"]: sorted({(ref["table"], run_key(ref["run"]))
                                      for ref in page["db_refs"]})
        for page in MANIFEST[name]["summary_pages"] if page["db_refs"]
    }
    assert {k: sorted(v) for k, v in experiment.page_refs.items()} == expected
    for orphan in MANIFEST[name]["orphan_pages"]:
        assert orphan in experiment.pages
        assert orphan not in experiment.page_refs


def test_report_of_another_experiment_is_not_linked(tmp_path):
    root = tmp_path / "mfxp1001123"
    (root / "work_dir").mkdir(parents=True)
    (root / "stats" / "summary" / "scans" / "r1").mkdir(parents=True)
    (root / "stats" / "summary" / "scans" / "r1" / "report.html").write_text("<html/>")
    db = root / "work_dir" / "lute.db"
    record_task(str(db), task="Test", run="1", status=TaskStatus.COMPLETED,
                experiment="mfxp1001123",
                summary="/sdf/data/lcls/ds/cxi/cxil1005322/stats/summary/scans/r1/report.html")
    record_task(str(db), task="Test", run="2", status=TaskStatus.COMPLETED,
                experiment="mfxp1001123",
                payload="/sdf/data/lcls/ds/mfx/mfxp1001123/stats/summary/scans/r1/report.html")
    experiment = _experiment(root)
    experiment.refresh()
    assert experiment.page_refs == {"scans/r1": [("Test", 2)]}


# --- the reader never writes ------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_reading_never_writes_to_the_result_directory(name, example_copy):
    root = example_copy(name)
    db = _db(root)
    before = _fingerprint(root)
    names_before = sorted(p.name for p in db.parent.iterdir())

    reader = LuteDbReader(db)
    reader.refresh()
    reader.refresh()
    for row in reader.refresh().rows or LuteDbReader(db).refresh().rows:
        reader.read_value(row.task, row.rowid, "result.payload", limit=16, layout=row.layout)
        reader.details(row)
    experiment = _experiment(root)
    experiment.refresh()
    experiment.refresh()
    # While the connections are still open: no journal of any kind next to the db.
    assert sorted(p.name for p in db.parent.iterdir()) == names_before
    reader.close()
    for db_reader in experiment._db_readers:
        db_reader.close()

    leftovers = [p.name for p in db.parent.iterdir()
                 if p.name.endswith(("-journal", "-wal", "-shm"))]
    assert leftovers == []
    assert _fingerprint(root) == before


def test_reader_opens_the_database_read_only(example_copy):
    db = _db(example_copy("mfxp1001123"))
    reader = LuteDbReader(db)
    reader.refresh()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._con.execute("CREATE TABLE intruder(x)")
    reader.close()


def test_database_copied_elsewhere_reads_the_same(example_copy, tmp_path):
    root = example_copy("cxil1005322")
    moved = tmp_path / "elsewhere with spaces & ü" / "lute.db"
    moved.parent.mkdir()
    shutil.copy(_db(root), moved)
    assert len(LuteDbReader(moved).refresh().rows) == 31
