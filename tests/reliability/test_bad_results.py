"""Bad lute.db files, odd tables, journals and summary trees: a clear problem, the rest works.

In-process through ``Experiment`` (what both the UI and the CLI show), plus
the CLI's ``problem:`` lines; every case also checks that nothing was written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.sources import summary_tree
from lute_model.sources.journal import JOURNAL_NAME, JournalReader
from lute_model.sources.lutedb import LuteDbReader
from lute_model.sources.summary_tree import SummaryTreeReader
from lute_model.status import TaskStatus
from lute_writers.journal import append_event
from lute_writers.lute_schema import record_task
from tests.support.experiments import add_page, build_experiment, inspect, problems_of


def open_experiment(folder: Path) -> Experiment:
    (source,), problems = discover([folder])
    assert problems == []
    experiment = Experiment(source)
    experiment.refresh()
    return experiment


def messages(experiment: Experiment) -> str:
    return "\n".join(p.message for p in experiment.problems)


def db_of(folder: Path) -> Path:
    return folder / "work_dir" / "lute.db"


# -- lute.db -----------------------------------------------------------------


def test_missing_empty_foreign_and_truncated_databases_are_named_in_the_cli(tmp_path: Path,
                                                                           unchanged):
    cases = {"missing": None, "empty": b"", "foreign": b"PK\x03\x04 this is a zip" * 50}
    good = build_experiment(tmp_path / "good")
    data = db_of(good).read_bytes()
    cases["truncated"] = data[: len(data) // 2 + 100]  # mid-page
    expected = {"missing": "no lute.db found", "empty": "lute.db is empty (0 bytes)",
                "foreign": "not an SQLite database", "truncated": "lute.db is damaged"}
    folders = []
    for name, content in cases.items():
        folder = build_experiment(tmp_path / name)
        if content is None:
            db_of(folder).unlink()
        else:
            db_of(folder).write_bytes(content)
        folders.append(folder)
    with unchanged(tmp_path):
        code, out = inspect(*folders)
    assert code == 0
    for name in cases:
        assert any(expected[name] in line and f"/{name}/" in line
                   for line in problems_of(out)), (name, out)
    # The summary pages of every broken experiment are still listed.
    assert out.count("summary pages: 3 in 3 tabs") == 4


def test_a_writer_holding_the_lock_makes_the_reader_say_busy_then_catch_up(experiment_dir: Path):
    db = db_of(experiment_dir)
    experiment = open_experiment(experiment_dir)
    experiment._db_readers[0].busy_timeout = 0.2  # LUTE can hold it 30 s; the test need not
    shown = len(experiment.executions)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("""INSERT INTO IndexCrystFEL (gen_cfg_id, "result.task_status")
                      VALUES (1, 'COMPLETED')""")
    started = time.monotonic()
    experiment.refresh()
    assert time.monotonic() - started < 10, "the reader waited for the writer"
    assert "lute.db is busy (locked by a writer" in messages(experiment)
    assert len(experiment.executions) == shown  # the last state read stays on screen
    writer.execute("COMMIT")
    writer.close()
    experiment.refresh()
    assert "busy" not in messages(experiment)
    assert len(experiment.executions) == shown + 1


def test_a_database_deleted_and_replaced_while_open_is_read_again(experiment_dir: Path):
    experiment = open_experiment(experiment_dir)
    reader = experiment._db_readers[0]
    assert reader._con is not None  # the connection stays open between refreshes
    db_of(experiment_dir).unlink()
    experiment.refresh()
    assert "lute.db is missing" in messages(experiment)
    assert len(experiment.executions) == 6  # the last good state is kept
    record_task(str(db_of(experiment_dir)), task="SubmitSMD", run="7",
                status=TaskStatus.RUNNING)
    change = experiment.refresh()
    assert change.reset
    assert [(r.task, r.run) for r in experiment.executions] == [("SubmitSMD", "7")]
    assert experiment.problems == []


def test_a_database_replaced_by_a_rename_is_read_again_and_a_bad_one_keeps_the_last(
        experiment_dir: Path, tmp_path: Path):
    experiment = open_experiment(experiment_dir)
    other = tmp_path / "new.db"
    record_task(str(other), task="SubmitSMD", run="8", status=TaskStatus.COMPLETED)
    os.replace(other, db_of(experiment_dir))
    assert experiment.refresh().reset
    assert [(r.task, r.run) for r in experiment.executions] == [("SubmitSMD", "8")]
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    os.replace(broken, db_of(experiment_dir))
    experiment.refresh()
    assert "damaged" in messages(experiment)
    assert [(r.task, r.run) for r in experiment.executions] == [("SubmitSMD", "8")]


def test_the_reader_opens_read_only_and_leaves_no_trace(experiment_dir: Path, unchanged):
    folder = db_of(experiment_dir).parent
    with unchanged(folder):
        reader = LuteDbReader(db_of(experiment_dir))
        assert len(reader.refresh().rows) == 6
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._con.execute("CREATE TABLE x (y)")
        assert reader.refresh().ok
        reader.close()
    assert sorted(p.name for p in folder.iterdir()) == ["lute.db"]


KILLED_WRITER = """
import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA cache_size=2")  # spill pages to the file mid-transaction
con.execute("BEGIN")
for i in range(20000):
    con.execute('INSERT INTO IndexCrystFEL (gen_cfg_id, "result.task_status", "result.summary")'
                " VALUES (1, 'COMPLETED', ?)", ("x" * 200,))
os._exit(9)  # killed before COMMIT
"""


def test_a_writer_killed_mid_transaction_leaves_a_hot_journal_we_name_and_outlive(
        experiment_dir: Path, unchanged):
    db = db_of(experiment_dir)
    experiment = open_experiment(experiment_dir)
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(db)], check=False, timeout=60)
    assert Path(f"{db}-journal").stat().st_size > 0
    with unchanged(db.parent):
        experiment.refresh()
        experiment.refresh()
    assert "unfinished write" in messages(experiment)
    assert len(experiment.executions) == 6  # what was committed stays shown
    fresh = open_experiment(experiment_dir)  # a new server (or the CLI) says the same
    assert "unfinished write" in messages(fresh)
    record_task(str(db), task="SubmitSMD", run="3", status=TaskStatus.COMPLETED)  # LUTE resumes
    experiment.refresh()
    assert experiment.problems == []
    assert len(experiment.executions) == 7  # none of the 20,000 uncommitted rows


def test_a_wal_database_is_read_without_touching_its_files(experiment_dir: Path, unchanged):
    db = db_of(experiment_dir)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("""INSERT INTO IndexCrystFEL (gen_cfg_id, "result.task_status")
                      VALUES (1, 'FAILED')""")
    writer.commit()
    assert {p.name for p in db.parent.iterdir()} == {"lute.db", "lute.db-wal", "lute.db-shm"}
    try:
        before = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.name != "lute.db-shm"}
        with unchanged(db):
            reader = LuteDbReader(db)
            delta = reader.refresh()
            assert delta.ok and len(delta.rows) == 7  # the row still in the -wal is seen
            reader.close()
        after = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.name != "lute.db-shm"}
        # What happens: a WAL reader must take a read mark in the shared-memory index, so
        # lute.db-shm is written (never lute.db nor lute.db-wal). LUTE does not use WAL.
        assert after == before
    finally:
        writer.close()


# -- odd tables ----------------------------------------------------------------


def test_odd_tables_rows_and_values_are_shown_or_named(tmp_path: Path):
    folder = build_experiment(tmp_path, runs=1)
    db = db_of(folder)
    with sqlite3.connect(db) as con:
        con.execute('CREATE TABLE NoResults (id INTEGER PRIMARY KEY, gen_cfg_id INTEGER, x TEXT)')
        con.execute('INSERT INTO NoResults (gen_cfg_id, x) VALUES (1, "a")')
        con.execute('ALTER TABLE FindPeaksPyAlgos ADD COLUMN "brand.new" TEXT')
        con.execute('INSERT INTO FindPeaksPyAlgos (gen_cfg_id, "result.task_status", "brand.new")'
                    " VALUES (1, 'EXPLODED', 'x')")
        con.execute('INSERT INTO FindPeaksPyAlgos (id) VALUES (NULL)')  # NULL everywhere
        con.execute('INSERT INTO IndexCrystFEL (gen_cfg_id, "result.task_status", '
                    '"result.summary", "result.payload") VALUES (1, 2, ?, zeroblob(100000000))',
                    ("s" * 10_000_000,))
    tracemalloc.start()
    experiment = open_experiment(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 30 * 2**20, f"reading kept {peak / 2**20:.0f} MB"  # not the 110 MB stored
    text = messages(experiment)
    assert "'NoResults' is not a LUTE Task table" in text
    assert "have a status that is not a TaskStatus; shown as UNKNOWN" in text
    statuses = sorted(r.status.name for r in experiment.executions)
    assert statuses.count("UNKNOWN") == 2  # the unknown word and the NULL
    big = max(experiment.executions, key=lambda r: r.summary_size)
    assert big.summary_size == 10_000_000 and len(big.summary) <= 16 * 1024
    assert big.payload.size == 100_000_000 and big.payload.text is None
    assert big.status.name == "COMPLETED"  # stored as the enum's integer


# -- the journal ---------------------------------------------------------------


def _event(task: str, run: str, status: str, when: datetime) -> bytes:
    return (json.dumps({"time": when.isoformat().replace("+00:00", "Z"), "task": task,
                        "run": run, "status": status}) + "\n").encode()


def test_partial_garbage_and_binary_journal_lines(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    now = datetime.now(timezone.utc)
    journal.write_bytes(b"\x00\xff\xfe garbage\n{\"json\": \"but not an event\"}\n[1, 2]\n"
                        + _event("A", "1", "RUNNING", now) + b'{"time": "2026-01-0')
    reader = JournalReader(journal)
    delta = reader.refresh()
    assert [(r.task, r.status.name) for r in delta.rows] == [("A", "RUNNING")]
    assert [p.message.split(":")[0] for p in delta.problems] == ["line 1", "line 2", "line 3"]
    with open(journal, "ab") as handle:  # the writer finishes its half line
        handle.write(b'1T00:00:00Z", "task": "B", "run": "2", "status": "FAILED"}\n')
    assert [(r.task, r.status.name) for r in reader.refresh().rows] == [("B", "FAILED")]


def test_a_one_gigabyte_journal_is_read_by_offset_not_into_memory(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    with open(journal, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: a gigabyte of NULs, no disk space
    with open(journal, "ab") as handle:
        handle.write(b"\n")  # else the first event is the end of a 1 GB line, and skipped
    append_event(journal, task="A", run="5", status="RUNNING")
    append_event(journal, task="A", run="5", status="COMPLETED")
    reader = JournalReader(journal)
    tracemalloc.start()
    rows, refreshes = [], 0
    while not rows and refreshes < 500:
        rows = reader.refresh().rows
        refreshes += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r.status.name for r in rows] == ["RUNNING", "COMPLETED"]
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MB"
    # What happens: 8 MB per refresh, so a 1 GB backlog takes ~128 refreshes to reach the end.
    assert refreshes <= 130


def test_events_out_of_order_and_from_the_future(tmp_path: Path):
    folder = build_experiment(tmp_path, runs=1)
    journal = db_of(folder).parent / JOURNAL_NAME
    now = datetime.now(timezone.utc)
    journal.write_bytes(_event("SubmitSMD", "2", "COMPLETED", now)
                        + _event("SubmitSMD", "2", "RUNNING", now - timedelta(minutes=5)))
    experiment = open_experiment(folder)
    assert experiment.latest["SubmitSMD", 2].status.name == "COMPLETED"  # by time, not order
    with open(journal, "ab") as handle:  # a node whose clock is a day ahead starts a Task
        handle.write(_event("SubmitSMD", "3", "RUNNING", now + timedelta(days=1)))
    experiment.refresh()
    assert experiment.latest["SubmitSMD", 3].status.name == "RUNNING"
    assert "is in the future (clock skew" in messages(experiment)
    ended = datetime.now(timezone.utc) + timedelta(seconds=1)  # whole seconds in the db
    record_task(str(db_of(folder)), task="SubmitSMD", run="3", status=TaskStatus.COMPLETED,
                timestamp=ended.strftime("%Y-%m-%d %H:%M:%S"))
    experiment.refresh()
    # What happens: the skewed RUNNING still outranks the finished row (merge by time),
    # and the problems panel / CLI keep saying why.
    assert experiment.latest["SubmitSMD", 3].status.name in ("RUNNING", "COMPLETED")
    assert "is in the future (clock skew" in messages(experiment)


def test_a_journal_truncated_or_rotated_while_watched_is_read_from_the_start(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    for run in range(5):
        append_event(journal, task="A", run=str(run), status="RUNNING")
    reader = JournalReader(journal)
    assert len(reader.refresh().rows) == 5
    with open(journal, "r+b") as handle:
        handle.truncate(0)
    append_event(journal, task="B", run="1", status="FAILED")
    delta = reader.refresh()
    assert delta.reset and [r.task for r in delta.rows] == ["B"]
    os.rename(journal, tmp_path / "old.jsonl")
    append_event(journal, task="C", run="1", status="RUNNING")
    delta = reader.refresh()
    assert delta.reset and [r.task for r in delta.rows] == ["C"]


# -- the summary tree ----------------------------------------------------------


def test_ten_thousand_pages_in_one_tab(tmp_path: Path, monkeypatch):
    """All 10,000 pages are found once; then a refresh looks at a bounded number of folders
    (a poll costs what changed, not the size of the tree): a page a new row names is seen
    at once, a page nobody names within one round of the sweep.

    Folder mtimes are set 10 s into the past so that none is "too recent to trust"
    (those are re-listed on purpose). Work is counted in file-system calls, not seconds.
    """
    root = tmp_path / "summary"
    old = time.time() - 10
    for i in range(10_000):
        (root / "r0001" / f"p{i:05d}").mkdir(parents=True)
        (root / "r0001" / f"p{i:05d}" / "report.html").write_bytes(b"<p>x</p>")
        os.utime(root / "r0001" / f"p{i:05d}", (old, old))
    for folder in (root / "r0001", root):
        os.utime(folder, (old, old))
    reader = SummaryTreeReader(root)
    listed: list[str] = []
    list_folder = reader._list
    reader._list = lambda rel, mtime_ns: listed.append(rel) or list_folder(rel, mtime_ns)
    stats: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(summary_tree.os, "stat",
                        lambda path, **kw: stats.append(str(path)) or real_stat(path, **kw))
    delta = reader.refresh()
    assert len(delta.changed) == 10_000 and delta.problems == []
    assert len(listed) == 10_002  # the root, r0001 and each page folder, once
    for _ in range(3):
        listed.clear()
        stats.clear()
        assert not reader.refresh().changed
        assert listed == []
        # The root, then per recent or swept folder: the folder and its report.
        assert len(stats) <= 1 + 2 * (2 + summary_tree.SWEEP_PER_REFRESH)
    for name in ("p00042", "p07777"):
        (root / "r0001" / name / "report.html").write_bytes(b"<p>new</p>")
        os.utime(root / "r0001" / name, (old + 5, old + 5))
    listed.clear()
    changed = [page.display_name for page in reader.refresh(hints=["r0001/p00042"]).changed]
    assert "r0001/p00042" in changed and "r0001/p00042" in listed
    refreshes = 1
    while "r0001/p07777" not in changed:
        changed += [page.display_name for page in reader.refresh().changed]
        refreshes += 1
        assert refreshes <= 10_002 // summary_tree.SWEEP_PER_REFRESH + 2, "the sweep stalled"


def test_empty_reports_folders_named_report_html_and_pages_that_vanish(tmp_path: Path):
    folder = build_experiment(tmp_path, runs=1)
    summary = folder / "stats" / "summary"
    add_page(summary, "empty/page", b"")
    (summary / "odd" / "page" / "report.html").mkdir(parents=True)
    big = add_page(summary, "big/page", b"")
    with open(big, "wb") as handle:
        handle.truncate(50 * 2**20)
    experiment = open_experiment(folder)
    pages = experiment.pages
    assert pages["empty/page"].empty and pages["big/page"].size == 50 * 2**20
    assert "odd/page" not in pages
    assert "report.html is a folder, not a page; skipped." in messages(experiment)
    _code, out = inspect(folder)
    assert "(1 empty," in out and any("is a folder" in p for p in problems_of(out))
    os.unlink(summary / "r0001" / "powders" / "report.html")
    change = experiment.refresh()
    assert change.removed_pages == ["r0001/powders"]


def test_the_result_folders_vanish_and_come_back(experiment_dir: Path, tmp_path: Path):
    experiment = open_experiment(experiment_dir)
    away = tmp_path / "away"
    os.rename(experiment_dir, away)
    experiment.refresh()
    text = messages(experiment)
    assert "lute.db is missing" in text and "no summary folder" in text
    assert len(experiment.executions) == 6  # the last state read is still shown
    os.rename(away, experiment_dir)
    experiment.refresh()
    assert experiment.problems == []
    assert len(experiment.executions) == 6 and len(experiment.pages) == 3
