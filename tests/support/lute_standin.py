"""A stand-in of LUTE's Executor with LUTE's hook semantics (LUTE is not installed here).

``make_lute()`` builds a stand-in of ``lute/execution/executor.py`` as it
behaves in slac-lcls/lute (the versions of Aug-Oct 2024, e.g. 1e5d797 and
bf76cf1, and the newer one with ``ExecutorHooks``, ``TaskParametersDBReference``
and ``_sigalrm_task``):
- one ``Hooks`` class shared by every Executor (``ExecutorHooks`` with
  ``__slots__``: before any Executor exists its hooks are empty slots);
  ``add_hook`` sets the hook on that class;
- every ``Executor(...)`` calls ``add_default_hooks()``, which puts LUTE's
  own hooks back (and so drops hooks added earlier);
- the loop calls ``hook(executor, msg, proc)``; the end of ``execute_task``
  calls ``Hooks.task_failed(executor, msg=Message())`` / ``task_done`` by
  keyword, without ``proc``, then exits with ``sys.exit(-1)`` after a failure;
- a timeout is ``_sigalrm_task``: status TIMEDOUT, no hook call; the Task's
  SIGALRM handler may still send TASK_FAILED ("Timed out.");
- LUTE's ``task_started`` takes the parameters or rebuilds them from a
  reference to the database, then waits for the Task to pause;
  ``task_result`` takes the Task's TaskResult and answers True.
What it leaves out: real subprocesses, sockets and the eLog (a list).

The launcher tests import it in a child process too, as ``lute.execution.executor``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

LUTE_SIGNALS = ("NO_PICKLE_MODE", "TASK_STARTED", "TASK_FAILED", "TASK_STOPPED", "TASK_DONE",
                "TASK_CANCELLED", "TASK_RESULT", "TASK_LOG")
LuteStatus = Enum("LuteStatus", "PENDING RUNNING COMPLETED FAILED STOPPED CANCELLED TIMEDOUT",
                  start=0)  # LUTE's own enum: the hook must read it by name


@dataclass
class Message:
    contents: Any = None
    signal: str | None = None


@dataclass(frozen=True)
class ParametersReference:
    """LUTE's TaskParametersDBReference: where the Task stored its parameters."""

    db_dir: str
    row_ids: tuple = (1,)


@dataclass
class TaskScript:
    """What the Task subprocess does, as its Executor sees it."""

    messages: list = field(default_factory=list)
    returncode: int = 0
    times_out: bool = False
    after_timeout: list = field(default_factory=list)
    while_pausing: Any = None  # called where LUTE's task_started waits for the pause


def parameters(work_dir: Path | str, run: Any = 12) -> SimpleNamespace:
    return SimpleNamespace(lute_config=SimpleNamespace(
        run=run, experiment="mfxp1001123", work_dir=str(work_dir), task_timeout=600))


def started(work_dir: Path | str) -> Message:
    return Message(parameters(work_dir), "TASK_STARTED")


def result(status: LuteStatus = LuteStatus.COMPLETED) -> Message:
    task_result = SimpleNamespace(task_name="FindPeaksPyAlgos", task_status=status, summary="ok")
    return Message(task_result, "TASK_RESULT")


def make_lute() -> SimpleNamespace:
    """A fresh stand-in of LUTE's Executor classes (attaching patches classes: one per test)."""
    lute = SimpleNamespace(elog=[], db={}, records=[])

    class ExecutorHooks:
        __slots__ = tuple(signal.lower() for signal in LUTE_SIGNALS)

    class BaseExecutor:
        Hooks = ExecutorHooks

        def __init__(self, task_name: str) -> None:
            self._analysis_desc = SimpleNamespace(task_parameters=None, task_result=SimpleNamespace(
                task_name=task_name, task_status=LuteStatus.PENDING, summary=""))
            self._task_timeout = None
            self.script = TaskScript()

        def add_hook(self, event: str, hook: Any) -> None:
            if event.upper() in LUTE_SIGNALS:
                setattr(self.Hooks, event.lower(), hook)

        def _sigalrm_task(self, proc: Any) -> None:
            proc.signals.append("SIGALRM")
            self._analysis_desc.task_result.task_status = LuteStatus.TIMEDOUT

        def _read(self, proc: Any, messages: list) -> None:
            for msg in messages:
                getattr(self.Hooks, msg.signal.lower())(self, msg, proc)

        def execute_task(self) -> None:
            proc = SimpleNamespace(pid=4242, returncode=self.script.returncode, signals=[])
            self._read(proc, self.script.messages)
            if self.script.times_out:
                self._sigalrm_task(proc)
                self._read(proc, self.script.after_timeout)  # the final read of the pipes
            outcome = self._analysis_desc.task_result
            if proc.returncode and outcome.task_status is not LuteStatus.TIMEDOUT:
                outcome.task_status = LuteStatus.FAILED
                self.Hooks.task_failed(self, msg=Message())
            elif not proc.returncode and outcome.task_status is LuteStatus.RUNNING:
                outcome.task_status = LuteStatus.COMPLETED
                self.Hooks.task_done(self, msg=Message())
            lute.records.append((outcome.task_name, outcome.task_status.name))
            if outcome.task_status.name in ("FAILED", "TIMEDOUT", "CANCELLED"):
                sys.exit(-1)

    class Executor(BaseExecutor):
        def __init__(self, task_name: str) -> None:
            super().__init__(task_name)
            self.add_default_hooks()

        def add_default_hooks(self) -> None:
            for event, hook in lute_hooks(lute).items():
                self.add_hook(event, hook)

    lute.BaseExecutor, lute.Executor = BaseExecutor, Executor
    return lute


def lute_hooks(lute: SimpleNamespace) -> dict[str, Any]:
    """LUTE's own hooks, as ``add_default_hooks`` installs them: each posts to the eLog
    (``lute.elog``); ``task_started`` and ``task_result`` first do what LUTE's do."""

    def post(word: str) -> Any:
        def hook(executor: Any, msg: Any, proc: Any = None) -> None:
            lute.elog.append((executor._analysis_desc.task_result.task_name, word))
        return hook

    def task_started(executor: Any, msg: Any, proc: Any = None) -> None:
        if isinstance(msg.contents, ParametersReference):
            rebuilt = lute.db[msg.contents.row_ids]  # KeyError: the row is not there
            rebuilt.lute_config.work_dir = msg.contents.db_dir
            executor._analysis_desc.task_parameters = rebuilt
        elif hasattr(msg.contents, "lute_config"):
            executor._analysis_desc.task_parameters = msg.contents
        else:
            return
        if executor.script.while_pausing is not None:
            executor.script.while_pausing()
        executor._analysis_desc.task_result.task_status = LuteStatus.RUNNING
        post("RUNNING")(executor, msg)

    def task_result(executor: Any, msg: Any, proc: Any = None) -> bool:
        if hasattr(msg.contents, "task_status"):
            executor._analysis_desc.task_result = msg.contents
        post("COMPLETED")(executor, msg)
        return True

    return {"task_started": task_started, "task_result": task_result,
            "task_failed": post("FAILED"), "task_stopped": post("STOPPED"),
            "task_done": post("COMPLETED"), "task_cancelled": post("CANCELLED"),
            "no_pickle_mode": lambda executor, msg, proc=None: None,
            "task_log": lambda executor, msg, proc=None: True}
