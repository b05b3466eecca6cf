"""Write the status journal from LUTE's own Executor, under LUTE's real hook semantics.

    from lute_writers.lute_hooks import attach_status_journal
    attach_status_journal()            # once per process, before or after Executors exist

What LUTE does (``lute/execution/executor.py``, slac-lcls/lute, 2024-2025) and why
this module is shaped the way it is:

- The hooks live on one class, ``BaseExecutor.Hooks``, shared by every Executor
  of the process, and ``add_hook`` sets them there.  Every Executor
  construction calls ``add_default_hooks()``, which re-adds LUTE's own hooks and
  so drops any added earlier; ``run_task.py`` imports ``lute.managed_tasks``,
  which builds dozens of Executors.  So we attach to the *class*: the base
  class's ``add_hook`` is wrapped, and every hook installed for a status event
  (LUTE's defaults at each construction, anyone's later ``add_hook``) is
  wrapped to journal.  Attaching twice changes nothing (a marker attribute).
- The loop calls ``hook(executor, msg, proc)``; the end of ``execute_task``
  calls ``Hooks.task_failed(executor, msg=Message())`` by keyword, with no
  ``proc``; hooks of August 2024 take ``(executor, msg)`` only.  A wrapper
  forwards exactly the arguments it got and returns the wrapped hook's answer.
- Newer versions time a Task out in ``_sigalrm_task`` (TIMEDOUT, no hook call),
  and a Task then paused for good may keep the Executor waiting forever: that
  method is wrapped so TIMEDOUT is on disk at once.  ``execute_task`` is
  wrapped so that, when it returns or exits (``sys.exit(-1)``), the journal
  ends with the status the Executor records in ``lute.db``.
- ``task_started`` may carry a ``TaskParametersDBReference`` (``db_dir``,
  ``row_ids``) instead of the parameters; LUTE's hook rebuilds them from the
  database.  A Task that dies reading its configuration never sends
  parameters at all.  The run and work dir then come from the launch: the
  config file's ``lute_config`` header and the environment, read as LUTE reads
  them (:func:`launch_context`).

Each event is appended with one ``write`` and the descriptor closed before the
hook returns, so it is in the file (and, on NFS, on the server) before the
Executor exits.  A journal that cannot be written is logged and never stops a
Task.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lute_model.results import TaskResult
from lute_model.status import FINAL_STATUSES, AnyStatus, TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event

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
#: Set on every function of ours, so nothing is wrapped twice.
MARK = "writes_status_journal"
_ATTACHMENT = "_lute_status_journal"
_LAST = "_lute_journal_last_status"
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_terminal_events = 0


@dataclass(frozen=True)
class LaunchContext:
    """What the launch says about a Task's run, for a Task that never said it itself."""

    run: str | None = None
    experiment: str | None = None
    work_dir: str | None = None
    config_path: str | None = None


def _substitute(value: Any, header: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """A value with ``{{ $VAR }}`` and ``{{ key }}`` filled in as LUTE does; None if missing."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name, _, fmt = match.group(1).strip().partition(":")
        if name.startswith("$"):
            found = env.get(name[1:], env.get(f"LUTE_TENV_{name[1:]}"))
        else:
            found = header.get(name)
        if found is None or "{{" in str(found):
            missing = True
            return ""
        if fmt:
            try:
                return format(int(found) if str(found).lstrip("-").isdigit() else found, fmt)
            except (TypeError, ValueError):
                pass
        return str(found)

    text = _PLACEHOLDER.sub(fill, str(value))
    return None if missing else text


def _config_header(path: str, env: Mapping[str, str]) -> dict[str, str]:
    """The ``lute_config`` header (first YAML document) of a LUTE config file, or {}."""
    try:
        import yaml  # LUTE needs PyYAML; where it is missing, the environment must do
    except ImportError:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            header = next(yaml.safe_load_all(handle), None)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        log.warning("status journal: config %s unreadable: %s", path, err)
        return {}
    if not isinstance(header, dict):
        return {}
    filled = {str(k): _substitute(v, header, env) for k, v in header.items() if v is not None}
    return {k: v for k, v in filled.items() if v}


def launch_context(config_path: str | None = None,
                   environ: Mapping[str, str] | None = None) -> LaunchContext:
    """Run, experiment and work dir as LUTE would derive them, without running LUTE.

    LUTE's ``AnalysisHeader``: ``run`` from the header, else the first part of
    ``RUN_NUM`` (``RUN_DATETIME`` from the ARP, the run from
    ``submit_slurm.sh``); ``experiment`` from the header, else ``EXPERIMENT``;
    ``work_dir`` from the header, else ``/sdf/data/lcls/ds/{hutch}/{exp}/scratch``.
    The config file is ``config_path`` or ``LUTE_CONFIGPATH`` (set by ``run_task.py``).
    """
    env = os.environ if environ is None else environ
    path = config_path or env.get("LUTE_CONFIGPATH") or None
    header = _config_header(path, env) if path else {}
    experiment = header.get("experiment") or env.get("EXPERIMENT") or None
    run = header.get("run") or env.get("RUN_NUM", "").split("_")[0] or None
    if run is not None and run.isdigit():
        run = str(int(run))  # LUTE turns "0012" into 12
    work_dir = header.get("work_dir") or env.get("LUTE_WORK_DIR") or (
        f"/sdf/data/lcls/ds/{experiment[:3]}/{experiment}/scratch" if experiment else None)
    if work_dir is not None and not os.path.isdir(work_dir):
        work_dir = None  # LUTE refuses a work dir that does not exist: so do we
    return LaunchContext(run=run, experiment=experiment, work_dir=work_dir, config_path=path)


@dataclass
class _Attachment:
    """Process-wide settings of the journal, kept on the patched Executor class."""

    work_dir: str | None = None


def _lute_config(executor: Any, contents: Any) -> Any:
    """The Task's ``lute_config``: from the message (a start) or what the Executor holds."""
    config = getattr(contents, "lute_config", None)
    if config is None:
        parameters = getattr(executor._analysis_desc, "task_parameters", None)
        config = getattr(parameters, "lute_config", None)
    return config


def journal_event(executor: Any, status: TaskStatus, message: str = "",
                  contents: Any = None) -> bool:
    """Append ``status`` for the Task of ``executor``; True if the journal has it.

    Consecutive repeats are skipped (a Task reporting its failure, then the
    Executor's exit call, is one FAILED).  Never raises.
    """
    global _terminal_events
    try:
        if getattr(executor, _LAST, None) is status:
            return True
        config = _lute_config(executor, contents)
        attachment = getattr(type(executor), _ATTACHMENT, None) or _Attachment()
        run = getattr(config, "run", None)
        experiment = getattr(config, "experiment", None)
        work_dir = attachment.work_dir or getattr(config, "work_dir", None) \
            or getattr(contents, "db_dir", None)
        if config is None and not message and status in FINAL_STATUSES:
            message = "ended before the Task sent its parameters (did it start?)"
        if run in (None, "") or not work_dir:
            launch = launch_context()
            run = run if run not in (None, "") else launch.run
            experiment = experiment or launch.experiment
            work_dir = work_dir or launch.work_dir
        task = _executor_result(executor).task_name
        if run in (None, "") or not work_dir or not task:
            log.warning("status journal: %s %s not written (Task, run or work_dir unknown)",
                        task, status.name)
            return False
        append_event(Path(work_dir) / JOURNAL_NAME, task=task, run=str(run), status=status,
                     message=message[:500], experiment=experiment or None,
                     job=os.environ.get("SLURM_JOB_ID"),
                     task_timeout=getattr(config, "task_timeout", None))
    except Exception:  # the journal must never stop a Task
        log.exception("status journal: %s not written", status.name)
        return False
    setattr(executor, _LAST, status)
    if status in FINAL_STATUSES:
        _terminal_events += 1
    return True


def terminal_events_written() -> int:
    """How many Task ends this process has journaled (the launcher's fallback asks)."""
    return _terminal_events


def _executor_result(executor: Any) -> TaskResult:
    """The TaskResult the Executor holds now: what it will record in ``lute.db``."""
    return TaskResult.from_lute(getattr(getattr(executor, "_analysis_desc", None),
                                        "task_result", None))


def _executor_status(executor: Any) -> AnyStatus:
    """The status the Executor holds now (UNKNOWN before it has a TaskResult)."""
    return _executor_result(executor).task_status


def _status_of(executor: Any, event: str, contents: Any) -> TaskStatus | None:
    status: AnyStatus | None = HOOK_STATUS[event]
    if status is None:  # task_result: the TaskResult it carries says, else the Executor does
        carried = getattr(contents, "task_status", None) is not None
        status = (TaskResult.from_lute(contents) if carried
                  else _executor_result(executor)).task_status
    if status is TaskStatus.FAILED and _executor_status(executor) is TaskStatus.TIMEDOUT:
        status = TaskStatus.TIMEDOUT  # the Task's own report of being timed out
    return status if isinstance(status, TaskStatus) else None


def _journaling_hook(event: str, previous: Callable[..., Any] | None) -> Callable[..., Any]:
    """``previous`` (or nothing), then the event in the journal; LUTE's answer is returned."""

    def hook(executor: Any, *args: Any, **kwargs: Any) -> Any:
        msg = kwargs["msg"] if "msg" in kwargs else (args[0] if args else None)
        contents = getattr(msg, "contents", None)
        text = contents if isinstance(contents, str) else ""
        written = False
        if event == "task_started" and getattr(contents, "lute_config", None) is not None:
            # The Task's own parameters say where: write before LUTE's hook,
            # which waits for the Task to pause and may never return.
            written = journal_event(executor, TaskStatus.RUNNING, text, contents)
        try:
            return previous(executor, *args, **kwargs) if previous is not None else None
        finally:
            status = None if written else _status_of(executor, event, contents)
            if status is not None:  # also when LUTE's hook raised: the event happened
                journal_event(executor, status, text, contents)

    if previous is not None:
        functools.update_wrapper(hook, previous)
    setattr(hook, MARK, True)
    return hook


def _marked(function: Any) -> bool:
    return bool(getattr(function, MARK, False))


def _wrap_installed_hooks(cls: type) -> None:
    """Wrap the hooks the shared ``Hooks`` class holds now (set by whoever, however)."""
    for event in HOOK_STATUS:
        current = getattr(cls.Hooks, event, None)
        if not _marked(current):
            # Before any Executor exists a slot of LUTE's ExecutorHooks is no function.
            setattr(cls.Hooks, event, _journaling_hook(event, current if callable(current)
                                                       else None))


def _wrap_add_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    def add_hook(self: Any, event: str, hook: Any, *args: Any, **kwargs: Any) -> Any:
        if str(event).lower() in HOOK_STATUS and not _marked(hook):
            hook = _journaling_hook(str(event).lower(), hook)
        return original(self, event, hook, *args, **kwargs)

    return add_hook


def _wrap_execute_task(original: Callable[..., Any]) -> Callable[..., Any]:
    def execute_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        setattr(self, _LAST, None)
        _wrap_installed_hooks(type(self))
        outcome: tuple[TaskStatus, str] | None = None
        try:
            return original(self, *args, **kwargs)
        except KeyboardInterrupt:
            outcome = (TaskStatus.CANCELLED, "Executor interrupted")
            raise
        except Exception as err:
            outcome = (TaskStatus.FAILED, f"Executor error: {err!r}")
            raise
        finally:  # also on sys.exit(-1): the end LUTE records, before the process ends
            last = getattr(self, _LAST, None)
            if outcome is not None and last not in FINAL_STATUSES:
                journal_event(self, *outcome)
            elif outcome is None and _executor_status(self) in FINAL_STATUSES:
                journal_event(self, _executor_status(self))

    return execute_task


def _wrap_sigalrm_task(original: Callable[..., Any]) -> Callable[..., Any]:
    def _sigalrm_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, *args, **kwargs)
        if _executor_status(self) is TaskStatus.TIMEDOUT:
            timeout = getattr(self, "_task_timeout", None)
            journal_event(self, TaskStatus.TIMEDOUT, f"no end after task_timeout ({timeout} s)")
        return answer

    return _sigalrm_task


def _patch(cls: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace method ``name`` where ``cls`` inherits it from, once."""
    owner = next((klass for klass in cls.__mro__ if name in vars(klass)), None)
    if owner is None or _marked(vars(owner)[name]):
        return
    original = vars(owner)[name]
    wrapped = functools.update_wrapper(wrap(original), original)
    setattr(wrapped, MARK, True)
    setattr(owner, name, wrapped)


def _executor_class(target: Any) -> type:
    if target is None:
        from lute.execution.executor import BaseExecutor  # LUTE itself, in its process

        target = BaseExecutor
    cls = target if isinstance(target, type) else type(target)
    if not hasattr(cls, "Hooks") or not hasattr(cls, "add_hook"):
        raise TypeError(f"{cls.__name__} is not a LUTE Executor (no Hooks and add_hook)")
    return cls


def attach_status_journal(target: Any = None, work_dir: str | None = None) -> type:
    """Make every Executor of this process append its status changes to the journal.

    ``target`` is an Executor, an Executor class, or None for LUTE's
    ``BaseExecutor``; the class that defines ``add_hook`` is patched, so
    Executors built later (and their ``add_default_hooks``) journal too.
    ``work_dir`` overrides the Task's ``lute_config.work_dir`` (the folder of
    ``lute.db``, where the dashboard looks).  Returns the patched class.
    """
    cls = _executor_class(target)
    owner = next(klass for klass in cls.__mro__ if "add_hook" in vars(klass))
    attachment = vars(owner).get(_ATTACHMENT)
    if attachment is None:
        setattr(owner, _ATTACHMENT, _Attachment(work_dir))
    elif work_dir is not None:
        attachment.work_dir = work_dir
    _patch(owner, "add_hook", _wrap_add_hook)
    _patch(cls, "execute_task", _wrap_execute_task)
    _patch(cls, "_sigalrm_task", _wrap_sigalrm_task)
    _wrap_installed_hooks(cls)
    return owner


def journal_attached(target: Any = None) -> bool:
    """Whether ``attach_status_journal`` holds now: ``add_hook`` and every status hook are ours."""
    cls = _executor_class(target)
    return _marked(getattr(cls, "add_hook", None)) and all(
        _marked(getattr(cls.Hooks, event, None)) for event in HOOK_STATUS)
