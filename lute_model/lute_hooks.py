"""Write the status journal from LUTE's own Executor: one call for a LUTE user.

    from lute.execution.executor import Executor
    from lute_model.lute_hooks import attach_status_journal

    executor = Executor("FindPeaksPyAlgos")
    attach_status_journal(executor)
    executor.execute_task()

LUTE's Executor calls one hook per event (``task_started``, ``task_failed``,
``task_stopped``, ``task_done``, ``task_cancelled``, ``task_result``) and
``add_hook`` *replaces* the hook of an event, so each of ours wraps the hook
that was there (LUTE's eLog posting keeps working) and then appends the event.
A journal that cannot be written is logged and never stops the Task.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from lute_model.sources.journal import JOURNAL_NAME, append_event
from lute_model.status import TaskStatus, UnknownStatus, parse_status

log = logging.getLogger(__name__)

#: Executor hook -> the status it announces (``task_result`` carries its own).
HOOK_STATUS: dict[str, TaskStatus | None] = {
    "task_started": TaskStatus.RUNNING,
    "task_failed": TaskStatus.FAILED,
    "task_stopped": TaskStatus.STOPPED,
    "task_done": TaskStatus.COMPLETED,
    "task_cancelled": TaskStatus.CANCELLED,
    "task_result": None,
}


def _config(executor: Any) -> Any:
    """LUTE's ``lute_config`` header (experiment, run, work_dir), once the Task started."""
    parameters = getattr(executor._analysis_desc, "task_parameters", None)
    return getattr(parameters, "lute_config", None)


def _status_of(executor: Any, hook: str, msg: Any) -> TaskStatus | None:
    fixed = HOOK_STATUS[hook]
    if fixed is not None:
        return fixed
    result = getattr(msg, "contents", None)
    if not hasattr(result, "task_status"):
        result = executor._analysis_desc.task_result
    status = parse_status(result.task_status)
    return None if isinstance(status, UnknownStatus) else status


def _write(executor: Any, hook: str, msg: Any, work_dir: str | None) -> None:
    config = _config(executor)
    folder = work_dir or getattr(config, "work_dir", None) or os.environ.get("LUTE_WORK_DIR")
    run = getattr(config, "run", None)
    status = _status_of(executor, hook, msg)
    if folder is None or run is None or status is None:
        log.warning("status journal: %s not written (work_dir, run or status unknown)", hook)
        return
    contents = getattr(msg, "contents", None)
    append_event(
        Path(folder) / JOURNAL_NAME,
        task=executor._analysis_desc.task_result.task_name,
        run=str(run),
        status=status,
        message=contents[:500] if isinstance(contents, str) else "",
        experiment=getattr(config, "experiment", None),
        job=os.environ.get("SLURM_JOB_ID"),
    )


def attach_status_journal(executor: Any, work_dir: str | None = None) -> None:
    """Make ``executor`` append every status change to ``{work_dir}/lute_status.jsonl``.

    ``work_dir`` defaults to the Task's ``lute_config.work_dir``, the folder
    where LUTE writes ``lute.db``, so the dashboard finds the journal beside it.
    """
    for hook in HOOK_STATUS:
        previous = getattr(executor.Hooks, hook)
        if getattr(previous, "writes_status_journal", False):
            continue  # attached already: one event per change, not two

        def wrapped(self: Any, msg: Any, proc: Any = None, *, _hook: str = hook,
                    _previous: Any = previous) -> Any:
            answer = _previous(self, msg, proc)
            try:
                _write(self, _hook, msg, work_dir)
            except Exception:  # the journal must never stop a Task
                log.exception("status journal: %s could not be written", _hook)
            return answer

        wrapped.writes_status_journal = True  # type: ignore[attr-defined]
        executor.add_hook(hook, wrapped)
