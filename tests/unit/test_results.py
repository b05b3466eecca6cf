"""TaskResult and DescribedAnalysis convert to and from LUTE's dataclasses without loss."""

# The stand-ins below keep LUTE's own typing annotations, verbatim.
# ruff: noqa: UP006, UP035, UP045

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Optional

import pytest

from lute_model.results import DescribedAnalysis, PayloadInfo, TaskResult, TaskRun
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


@dataclass
class LuteDescribedAnalysis:
    """Complete analysis description. Held by an Executor."""

    task_result: LuteTaskResult
    task_parameters: Optional[Any]
    task_env: Dict[str, str]
    poll_interval: float
    communicator_desc: List[str]


def _lute_result(status: LuteTaskStatus = LuteTaskStatus.COMPLETED, **kw: Any) -> LuteTaskResult:
    fields = {"task_name": "FindPeaksPyAlgos", "task_status": status,
              "summary": "Number of hits found: 20782;Fractional hit rate: 0.30",
              "payload": b"\x00\x01\x02", "impl_schemas": "schema1;schema2"}
    fields.update(kw)
    return LuteTaskResult(**fields)


@pytest.mark.parametrize("status", list(LuteTaskStatus))
def test_task_result_round_trips_through_lutes_dataclass_for_every_status(status):
    original = _lute_result(status)
    ours = TaskResult.from_lute(original)
    assert ours.task_status is TaskStatus[status.name]
    back = ours.to_lute(LuteTaskResult, LuteTaskStatus)
    assert isinstance(back, LuteTaskResult)
    assert back.task_status is status
    assert back == original


def test_task_result_from_lute_keeps_payload_object_and_none_schemas():
    payload = {"array": [1.0, 2.0]}
    ours = TaskResult.from_lute(_lute_result(payload=payload, impl_schemas=None))
    assert ours.payload is payload
    assert ours.impl_schemas is None
    assert ours.to_lute(LuteTaskResult, LuteTaskStatus).impl_schemas is None


def test_task_result_from_lute_reads_a_status_stored_as_a_word():
    ours = TaskResult.from_lute(_lute_result(task_status="TaskStatus.FAILED"))
    assert ours.task_status is TaskStatus.FAILED


def test_task_result_from_lute_with_unknown_status_is_kept_as_unknown():
    ours = TaskResult.from_lute(_lute_result(task_status="EXPLODED"))
    assert isinstance(ours.task_status, UnknownStatus)
    assert ours.task_status.raw == "EXPLODED"


def test_unknown_status_refuses_to_become_a_lute_result():
    ours = TaskResult(task_name="Test", task_status=parse_status("bogus"))
    with pytest.raises(ValueError, match=r"unknown status.*bogus"):
        ours.to_lute(LuteTaskResult, LuteTaskStatus)


def test_task_result_from_lute_keeps_a_summary_of_any_type():
    """LUTE 2025 on types ``TaskResult.summary`` as Any: a dict stays a dict."""
    ours = TaskResult.from_lute(_lute_result(summary={"hits": 3}))
    assert ours.summary == {"hits": 3}


def _lute_analysis(status: LuteTaskStatus = LuteTaskStatus.COMPLETED) -> LuteDescribedAnalysis:
    return LuteDescribedAnalysis(
        task_result=_lute_result(status),
        task_parameters={"lute_config.run": "12", "outdir": "/sdf/data/lcls/ds/cxi/x"},
        task_env={"LUTE_CONFIGPATH": "/sdf/x.yaml", "SLURM_JOB_ID": "123"},
        poll_interval=0.05,
        communicator_desc=[
            "PipeCommunicator: Communicates through stderr and stdout using pickle."],
    )


@pytest.mark.parametrize("status", [LuteTaskStatus.COMPLETED, LuteTaskStatus.TIMEDOUT])
def test_described_analysis_round_trips_through_lutes_dataclass(status):
    original = _lute_analysis(status)
    ours = DescribedAnalysis.from_lute(original)
    assert isinstance(ours.task_result, TaskResult)
    assert ours.task_result.task_status is TaskStatus[status.name]
    assert ours.task_env == original.task_env
    assert ours.task_env is not original.task_env
    back = ours.to_lute(LuteDescribedAnalysis, LuteTaskResult, LuteTaskStatus)
    assert isinstance(back.task_result, LuteTaskResult)
    assert back.task_result.task_status is status
    assert back == original


def test_described_analysis_with_unknown_status_refuses_to_become_lutes():
    ours = DescribedAnalysis.from_lute(_lute_analysis())
    ours.task_result.task_status = parse_status(42)
    with pytest.raises(ValueError, match="unknown status"):
        ours.to_lute(LuteDescribedAnalysis, LuteTaskResult, LuteTaskStatus)


def test_task_run_with_unknown_status_gives_a_task_result():
    row = TaskRun(task="Test", run="21", status=parse_status("WEIRD"), timestamp="2024-10-09")
    result = row.to_task_result()
    assert isinstance(result.task_status, UnknownStatus)
    assert result.task_status.raw == "WEIRD"
    assert row.payload == PayloadInfo("null", 0)


@pytest.mark.parametrize(("run", "key"), [
    ("12", 12), ("0012", 12), ("r0012", 12), ("r12", 12), ("run12", 12), ("run_12", 12),
    ("R0012", 12), (" 7 ", 7), ("calib", "calib"), ("", ""),
])
def test_run_key_merges_spellings_of_one_run(run, key):
    assert run_key(run) == key
