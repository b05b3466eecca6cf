"""The status journal: writers, the incremental reader and the merge rule."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lute_model.sources.journal import JOURNAL_NAME, JournalReader
from lute_model.status import TaskStatus
from lute_writers.journal import append_event, event_line
from lute_writers.lute_schema import record_task
from tests.support.experiments import read_experiment


def test_event_line_refuses_unknown_status_and_missing_run():
    with pytest.raises(ValueError):
        event_line(task="T", run="1", status="BOGUS")
    with pytest.raises(ValueError):
        event_line(task="T", run="", status="RUNNING")


def test_reader_waits_for_the_end_of_a_partial_last_line(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    append_event(journal, task="T", run="1", status="RUNNING")
    full = event_line(task="T", run="1", status="COMPLETED")
    with open(journal, "ab") as handle:
        handle.write(full[:20])
    reader = JournalReader(journal)
    assert [r.status for r in reader.refresh().rows] == [TaskStatus.RUNNING]
    assert reader.refresh().rows == []
    with open(journal, "ab") as handle:
        handle.write(full[20:])
    assert [r.status for r in reader.refresh().rows] == [TaskStatus.COMPLETED]


def test_bad_and_binary_lines_are_problems_not_errors(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    journal.write_bytes(b"not json\n\xff\xfe\x00binary\n[1, 2]\n{\"task\": \"T\"}\n")
    append_event(journal, task="T", run="2", status="FAILED", message="segfault")
    delta = JournalReader(journal).refresh()
    assert [r.run for r in delta.rows] == ["2"]
    assert delta.rows[0].summary == "segfault"
    assert [p.message.split(":")[0] for p in delta.problems] == [
        "line 1", "line 2", "line 3", "line 4"]


def test_truncated_or_rotated_journal_is_read_again_from_the_start(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME
    for run in ("1", "2", "3"):
        append_event(journal, task="T", run=run, status="RUNNING")
    reader = JournalReader(journal)
    assert len(reader.refresh().rows) == 3
    journal.write_bytes(event_line(task="T", run="9", status="PENDING"))  # truncated
    delta = reader.refresh()
    assert delta.reset and [r.run for r in delta.rows] == ["9"]
    rotated = tmp_path / "new.jsonl"
    rotated.write_bytes(event_line(task="T", run="10", status="PENDING") * 5)
    os.replace(rotated, journal)
    delta = reader.refresh()
    assert delta.reset and len(delta.rows) == 5


def test_concurrent_appenders_never_interleave(tmp_path: Path):
    journal = tmp_path / JOURNAL_NAME

    def write(worker: int) -> None:
        for i in range(200):
            append_event(journal, task=f"Task{worker}", run=str(i), status="RUNNING",
                         message="x" * 1000)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delta = JournalReader(journal).refresh()
    assert len(delta.rows) == 800 and not delta.problems


def test_merge_rule_latest_by_time_and_a_database_row_is_final(example_copy):
    folder = example_copy("mfxp1001123")
    journal = folder / "work_dir" / JOURNAL_NAME
    experiment = read_experiment(folder)
    append_event(journal, task="Test", run="40", status="PENDING", time="2030-01-01T00:00:00Z")
    append_event(journal, task="Test", run="40", status="RUNNING", time="2030-01-01T00:00:01Z")
    change = experiment.refresh()
    assert ("Test", 40) in change.cells and 40 in change.new_runs
    assert experiment.latest[("Test", 40)].status is TaskStatus.RUNNING
    # An event that arrives late but happened earlier changes nothing.
    append_event(journal, task="Test", run="40", status="PENDING", time="2030-01-01T00:00:00.5Z")
    experiment.refresh()
    assert experiment.latest[("Test", 40)].status is TaskStatus.RUNNING
    # The database row of the same second wins over the RUNNING event of that second.
    append_event(journal, task="Test", run="41", status="RUNNING", time="2030-01-01T00:00:05.9Z")
    record_task(str(folder / "work_dir" / "lute.db"), task="Test", run="41",
                status=TaskStatus.COMPLETED, timestamp="2030-01-01 00:00:05")
    experiment.refresh()
    assert experiment.latest[("Test", 41)].status is TaskStatus.COMPLETED
    assert experiment.latest[("Test", 41)].rowid is not None


def test_a_task_seen_only_in_the_journal_gets_a_column(example_copy):
    folder = example_copy("mfxp1001123")
    experiment = read_experiment(folder)
    append_event(folder / "work_dir" / JOURNAL_NAME, task="NewTask", run="37", status="RUNNING")
    change = experiment.refresh()
    assert change.new_tasks == ["NewTask"] and experiment.tasks[-1] == "NewTask"


def test_emit_command_appends_beside_the_database(example_copy):
    folder = example_copy("mfxp1001123")
    cmd = [sys.executable, "-m", "dashboard.cli", "emit", str(folder), "--task", "Test",
           "--run", "50", "--status", "running", "--message", "started by SLURM", "--job", "77"]
    subprocess.run(cmd, check=True)
    event = json.loads((folder / "work_dir" / JOURNAL_NAME).read_text())
    assert event["status"] == "RUNNING" and event["job"] == "77" and event["run"] == "50"
    bad = subprocess.run([*cmd[:-6], "--status", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a TaskStatus" in bad.stderr


def test_a_task_running_past_its_task_timeout_is_flagged_stalled(tmp_path: Path):
    """LUTE ends a Task at its ``task_timeout``; one still RUNNING after it hangs (LUTE can
    leave a Task paused forever at its start).  The event's own timeout counts, else
    LUTE's default (600 s) when no timeout is known at all."""
    journal = tmp_path / JOURNAL_NAME
    (tmp_path / "stats" / "summary").mkdir(parents=True)
    record_task(str(tmp_path / "lute.db"), task="Other", run="1", status=TaskStatus.COMPLETED)
    with sqlite3.connect(tmp_path / "lute.db") as con:  # a header without a timeout
        con.execute("UPDATE gen_cfg SET task_timeout = NULL")
    con.close()
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    append_event(journal, task="Default", run="1", status="RUNNING",
                 time="2030-01-01T00:00:00Z")
    experiment = read_experiment(tmp_path)
    stalled = lambda seconds: sorted(  # noqa: E731
        row.task for row in experiment.overdue(start + timedelta(seconds=seconds)))
    assert stalled(599) == [] and stalled(601) == ["Default"]  # LUTE's default
    append_event(journal, task="Short", run="2", status="RUNNING", task_timeout=60,
                 time="2030-01-01T00:00:00Z")
    experiment.refresh()
    assert stalled(59) == []
    assert stalled(61) == ["Default", "Short"]  # the newest timeout seen serves the others
    assert json.loads(event_line(task="T", run="1", status="RUNNING",
                                 task_timeout=60))["task_timeout"] == 60
