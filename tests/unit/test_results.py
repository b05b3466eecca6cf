"""TaskResult reads LUTE's dataclass, of any version, without loss and without raising."""

# The stand-ins below keep LUTE's own typing annotations, verbatim.
# ruff: noqa: UP045

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Any, Optional

import pytest

from lute_model.results import PayloadInfo, TaskResult, TaskRun
from lute_model.runs import run_key
from lute_model.status import TaskStatus, UnknownStatus, parse_status


# Stand-ins for lute/tasks/dataclasses.py (LUTE is not installed here), copied field by field.
class LuteTaskStatus(Enum):
    """Possible Task statuses."""

    PENDING = 0
    RUNNING = 1
    COMPLETED = 2
    FAILED = 3
    STOPPED = 4
    CANCELLED = 5
    TIMEDOUT = 6


@dataclass
class LuteTaskResult:
    """Class for storing the result of a Task's execution with metadata."""

    task_name: str
    task_status: LuteTaskStatus
    summary: str
    payload: Any
    impl_schemas: Optional[str] = None


def _lute_result(status: LuteTaskStatus = LuteTaskStatus.COMPLETED, **kw: Any) -> LuteTaskResult:
    fields = {"task_name": "FindPeaksPyAlgos", "task_status": status,
              "summary": "Number of hits found: 20782;Fractional hit rate: 0.30",
              "payload": b"\x00\x01\x02", "impl_schemas": "schema1;schema2"}
    fields.update(kw)
    return LuteTaskResult(**fields)


@pytest.mark.parametrize("status", list(LuteTaskStatus))
def test_task_result_from_lute_keeps_every_field_for_every_status(status):
    original = _lute_result(status)
    ours = TaskResult.from_lute(original)
    assert ours.task_status is TaskStatus[status.name]
    assert (ours.task_name, ours.summary, ours.payload, ours.impl_schemas) == (
        original.task_name, original.summary, original.payload, original.impl_schemas)


def test_task_result_from_lute_keeps_payload_object_and_none_schemas():
    payload = {"array": [1.0, 2.0]}
    ours = TaskResult.from_lute(_lute_result(payload=payload, impl_schemas=None))
    assert ours.payload is payload
    assert ours.impl_schemas is None


def test_task_result_from_lute_reads_a_status_stored_as_a_word():
    ours = TaskResult.from_lute(_lute_result(task_status="TaskStatus.FAILED"))
    assert ours.task_status is TaskStatus.FAILED


def test_task_result_from_lute_with_unknown_status_is_kept_as_unknown():
    ours = TaskResult.from_lute(_lute_result(task_status="EXPLODED"))
    assert isinstance(ours.task_status, UnknownStatus)
    assert ours.task_status.raw == "EXPLODED"


def test_task_result_from_lute_of_an_older_or_partial_result_keeps_the_defaults():
    """The hook reads the Executor's result while LUTE fills it in: nothing may raise."""
    partial = SimpleNamespace(task_name="Test", task_status=LuteTaskStatus.RUNNING)
    ours = TaskResult.from_lute(partial)
    assert (ours.task_name, ours.task_status, ours.summary, ours.impl_schemas) == (
        "Test", TaskStatus.RUNNING, "", None)
    nothing = TaskResult.from_lute(None)
    assert nothing.task_name == "" and isinstance(nothing.task_status, UnknownStatus)


def test_task_result_from_lute_keeps_a_summary_of_any_type():
    """LUTE 2025 on types ``TaskResult.summary`` as Any: a dict stays a dict."""
    ours = TaskResult.from_lute(_lute_result(summary={"hits": 3}))
    assert ours.summary == {"hits": 3}


def test_task_run_keeps_an_unknown_status_as_read():
    row = TaskRun(task="Test", run="21", status=parse_status("WEIRD"), timestamp="2024-10-09")
    assert isinstance(row.status, UnknownStatus) and row.status.raw == "WEIRD"
    assert row.payload == PayloadInfo("null", 0)


@pytest.mark.parametrize(("run", "key"), [
    ("12", 12), ("0012", 12), ("r0012", 12), ("r12", 12), ("run12", 12), ("run_12", 12),
    ("R0012", 12), (" 7 ", 7), ("calib", "calib"), ("", ""),
])
def test_run_key_merges_spellings_of_one_run(run, key):
    assert run_key(run) == key
