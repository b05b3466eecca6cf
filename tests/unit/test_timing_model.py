"""Timing: queued, started, ended and duration per Task and run, from journal events and rows."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from lute_model.results import TaskRun
from lute_model.status import TaskStatus
from lute_model.timing import (
    JournalMarks,
    median_durations,
    run_timeline,
    runs_per_hour,
    timing_of,
)
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from tests.support.experiments import read_experiment


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def event(status: TaskStatus, time: str, task: str = "FindPeaks", run: str = "12") -> TaskRun:
    return TaskRun(task=task, run=run, status=status, timestamp=time)


def row(status: TaskStatus, time: str, task: str = "FindPeaks", run: str = "12") -> TaskRun:
    return TaskRun(task=task, run=run, status=status, timestamp=time, rowid=1, layout="v1")


def test_marks_keep_the_latest_queued_and_started_time_of_each_cell():
    marks = JournalMarks()
    marks.note([event(TaskStatus.PENDING, "2026-01-01 10:00:00.000000"),
                event(TaskStatus.RUNNING, "2026-01-01 10:00:05.000000"),
                event(TaskStatus.FAILED, "2026-01-01 10:01:00.000000"),
                event(TaskStatus.PENDING, "2026-01-01 11:00:00.000000"),  # queued again
                event(TaskStatus.RUNNING, "2026-01-01 10:00:01.000000", run="r0012")])  # older
    assert marks.queued(("FindPeaks", 12)) == "2026-01-01 11:00:00.000000"
    assert marks.started(("FindPeaks", 12)) == "2026-01-01 10:00:05.000000"
    marks.clear()
    assert marks.queued(("FindPeaks", 12)) is None and marks.started(("FindPeaks", 12)) is None


def test_a_finished_row_is_timed_from_its_queued_and_started_events():
    marks = JournalMarks()
    marks.note([event(TaskStatus.PENDING, "2026-01-01 10:00:00.000000"),
                event(TaskStatus.RUNNING, "2026-01-01 10:00:30.000000")])
    timing = timing_of(row(TaskStatus.COMPLETED, "2026-01-01 10:02:30"), [marks])
    assert (timing.queued, timing.started, timing.ended) == (
        utc("2026-01-01 10:00:00"), utc("2026-01-01 10:00:30"), utc("2026-01-01 10:02:30"))
    assert (timing.waited, timing.duration) == (30.0, 120.0)


def test_a_running_task_has_no_end_and_a_row_without_events_no_duration():
    marks = JournalMarks()
    running = event(TaskStatus.RUNNING, "2026-01-01 10:00:30.000000")
    marks.note([running])
    assert timing_of(running, [marks]).ended is None
    assert timing_of(running, [marks]).duration is None
    alone = timing_of(row(TaskStatus.COMPLETED, "2026-01-01 10:02:30", run="13"), [marks])
    assert alone.ended == utc("2026-01-01 10:02:30") and alone.duration is None


def test_a_row_stored_in_the_second_its_task_started_lasts_zero_not_minus():
    marks = JournalMarks()
    marks.note([event(TaskStatus.RUNNING, "2026-01-01 10:00:30.700000")])
    timing = timing_of(row(TaskStatus.COMPLETED, "2026-01-01 10:00:30"), [marks])
    assert timing.duration == 0.0


def test_marks_of_a_later_try_are_not_the_finished_rows():
    marks = JournalMarks()
    marks.note([event(TaskStatus.RUNNING, "2026-01-01 12:00:00.000000"),
                event(TaskStatus.PENDING, "2026-01-01 12:30:00.000000")])
    timing = timing_of(row(TaskStatus.FAILED, "2026-01-01 10:00:00"), [marks])
    assert timing.started is None and timing.queued is None and timing.duration is None


@pytest.fixture
def experiment_dir(tmp_path: Path) -> Path:
    """Runs 1-3 of two Tasks: rows at the end, journal events for queued and started."""
    work = tmp_path / "exp" / "work_dir"
    work.mkdir(parents=True)
    for run, hour in ((1, 10), (2, 10), (3, 11)):
        for task, (start, end) in (("FindPeaks", (1, 4)), ("IndexCrystFEL", (5, 5 + run))):
            append_event(work / JOURNAL_NAME, task=task, run=str(run), status="PENDING",
                         time=f"2026-01-01T{hour}:{run:02d}:00.000Z")
            append_event(work / JOURNAL_NAME, task=task, run=str(run), status="RUNNING",
                         time=f"2026-01-01T{hour}:{run:02d}:{start:02d}.000Z")
            record_task(str(work / "lute.db"), task=task, run=str(run),
                        status=TaskStatus.COMPLETED,
                        timestamp=f"2026-01-01 {hour}:{run:02d}:{end:02d}")
    return tmp_path / "exp"


def test_an_experiment_times_each_runs_tasks_in_pipeline_order(experiment_dir: Path):
    experiment = read_experiment(experiment_dir)
    timeline = run_timeline(experiment, 3)
    assert [(t.task, t.waited, t.duration) for t in timeline] == [
        ("FindPeaks", 1.0, 3.0), ("IndexCrystFEL", 5.0, 3.0)]
    assert median_durations(experiment, last=2) == {"FindPeaks": (3.0, 2),
                                                    "IndexCrystFEL": (2.5, 2)}
    per_hour = runs_per_hour(experiment)
    assert per_hour.hours == [utc("2026-01-01 10:00"), utc("2026-01-01 11:00")]
    assert per_hour.counts == [2, 1]
    assert runs_per_hour(experiment) is per_hour  # once per published state


def test_the_experiment_notes_only_new_events_and_rereads_a_rotated_journal(
        experiment_dir: Path, monkeypatch: pytest.MonkeyPatch):
    experiment = read_experiment(experiment_dir)
    noted: list[int] = []
    original = JournalMarks.note
    monkeypatch.setattr(JournalMarks, "note",
                        lambda self, events: noted.append(len(events)) or original(self, events))
    journal = experiment_dir / "work_dir" / JOURNAL_NAME
    append_event(journal, task="IndexCrystFEL", run="4", status="RUNNING",
                 time="2026-01-01T12:00:00.000Z")
    experiment.refresh()
    assert noted == [1]  # the new event, not the journal again
    assert run_timeline(experiment, 4)[0].started == utc("2026-01-01 12:00")

    journal.write_text("")  # rotated: read again from the start, old marks dropped
    append_event(journal, task="IndexCrystFEL", run="3", status="RUNNING",
                 time="2026-01-01T11:03:06.000Z")
    experiment.refresh()
    index = {t.task: t for t in run_timeline(experiment, 3)}["IndexCrystFEL"]
    assert index.queued is None and index.duration == 2.0
