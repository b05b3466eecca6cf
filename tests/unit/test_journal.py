"""The status journal: writers, the incremental reader and the merge rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.lute_hooks import attach_status_journal
from lute_model.lute_schema import record_task
from lute_model.sources.journal import JOURNAL_NAME, JournalReader, append_event, event_line
from lute_model.status import TaskStatus


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


def _experiment(folder: Path) -> Experiment:
    sources, _ = discover([folder])
    experiment = Experiment(sources[0])
    experiment.refresh()
    return experiment


def test_merge_rule_latest_by_time_and_a_database_row_is_final(example_copy):
    folder = example_copy("mfxp1001123")
    journal = folder / "work_dir" / JOURNAL_NAME
    experiment = _experiment(folder)
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
    experiment = _experiment(folder)
    append_event(folder / "work_dir" / JOURNAL_NAME, task="NewTask", run="37", status="RUNNING")
    change = experiment.refresh()
    assert change.new_tasks == ["NewTask"] and experiment.tasks[-1] == "NewTask"


class _FakeExecutor:
    """An object with LUTE's Executor hook interface (``Hooks`` and ``add_hook``)."""

    SIGNALS: ClassVar[set[str]] = {
        "TASK_STARTED", "TASK_FAILED", "TASK_STOPPED", "TASK_DONE", "TASK_CANCELLED",
        "TASK_RESULT", "TASK_LOG", "NO_PICKLE_MODE"}

    def __init__(self, work_dir: Path) -> None:
        class Hooks:
            def task_started(self, msg, proc=None): ...
            def task_failed(self, msg, proc=None): ...
            def task_stopped(self, msg, proc=None): ...
            def task_done(self, msg, proc=None): ...
            def task_cancelled(self, msg, proc=None): ...
            def task_result(self, msg, proc=None):
                return True

        self.Hooks = Hooks
        self.elog: list[str] = []
        self._work_dir = work_dir
        self._analysis_desc = SimpleNamespace(
            task_result=SimpleNamespace(task_name="FindPeaksPyAlgos",
                                        task_status=TaskStatus.PENDING),
            task_parameters=None)

    def add_hook(self, event, hook):
        if event.upper() in self.SIGNALS:
            setattr(self.Hooks, event.lower(), hook)

    def run_task(self, fail: bool) -> None:
        """What LUTE's execute_task does with its hooks, in order."""
        config = SimpleNamespace(work_dir=str(self._work_dir), run="12", experiment="mfxp1001123")
        self._analysis_desc.task_parameters = SimpleNamespace(lute_config=config)
        self.Hooks.task_started(self, SimpleNamespace(contents=None), None)
        if fail:
            self.Hooks.task_failed(self, SimpleNamespace(contents=None))
            return
        result = SimpleNamespace(task_status=TaskStatus.COMPLETED, summary="ok")
        assert self.Hooks.task_result(self, SimpleNamespace(contents=result), None) is True


@pytest.mark.parametrize("fail", [False, True])
def test_executor_hooks_write_a_whole_task_to_the_journal(tmp_path: Path, fail: bool):
    executor = _FakeExecutor(tmp_path)
    attach_status_journal(executor)
    attach_status_journal(executor)  # twice: still one event per change
    executor.run_task(fail)
    lines = [json.loads(x) for x in (tmp_path / JOURNAL_NAME).read_text().splitlines()]
    assert [e["status"] for e in lines] == ["RUNNING", "FAILED" if fail else "COMPLETED"]
    assert {e["task"] for e in lines} == {"FindPeaksPyAlgos"}
    assert {e["run"] for e in lines} == {"12"}
    assert {e["experiment"] for e in lines} == {"mfxp1001123"}


def test_emit_command_appends_beside_the_database(example_copy):
    folder = example_copy("mfxp1001123")
    cmd = [sys.executable, "-m", "dashboard.cli", "emit", str(folder), "--task", "Test",
           "--run", "50", "--status", "running", "--message", "started by SLURM", "--job", "77"]
    subprocess.run(cmd, check=True)
    event = json.loads((folder / "work_dir" / JOURNAL_NAME).read_text())
    assert event["status"] == "RUNNING" and event["job"] == "77" and event["run"] == "50"
    bad = subprocess.run([*cmd[:-6], "--status", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a TaskStatus" in bad.stderr
