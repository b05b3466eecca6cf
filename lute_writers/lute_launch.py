"""Run LUTE's ``run_task.py`` with the status journal switched on, without editing LUTE.

    python -m lute_writers.lute_launch $LUTE_PATH/run_task.py -c /path/config.yaml -t Task

runs the script as ``python run_task.py -c ... -t ...`` would (same ``sys.argv``,
its folder first on ``sys.path``, as ``__main__``), after attaching the journal
to LUTE's Executor class: ``run_task.py`` then imports ``lute.managed_tasks``,
whose Executors all journal (see :mod:`lute_writers.lute_hooks`).

A Task can fail where no hook sees it: LUTE not importable, a managed Task
name that does not exist, an Executor that dies before its Task starts.  If
the script ends badly and this process journaled no Task end, the launcher
appends FAILED itself, for the run and work dir the launch tells
(:func:`~lute_writers.lute_hooks.launch_context`: the config file's header and
``RUN_NUM``/``EXPERIMENT``).  Without them it cannot, and says so on stderr.
The exit status is the script's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
from pathlib import Path

from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_hooks import attach_status_journal, launch_context, terminal_events_written

USAGE = "usage: python -m lute_writers.lute_launch RUN_TASK_PY -c CONFIG -t TASK [more arguments]"


def _launch_arguments(arguments: list[str]) -> argparse.Namespace:
    """``-c`` and ``-t`` as ``run_task.py`` reads them; everything else is the script's."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-c", "--config")
    parser.add_argument("-t", "--taskname", default="test")  # run_task.py's default
    known, _ = parser.parse_known_args(arguments)
    return known


def _task_name(managed_name: str) -> str:
    """The Task a managed Task runs (``lute.db`` and the journal use it), if LUTE got that far."""
    managed = sys.modules.get("lute.managed_tasks")
    executor = getattr(managed, managed_name, None)
    result = getattr(getattr(executor, "_analysis_desc", None), "task_result", None)
    name = getattr(result, "task_name", None)
    return name if isinstance(name, str) and name else managed_name


def journal_launch_failure(managed_name: str, config: str | None, status: TaskStatus,
                           message: str) -> bool:
    """Append the end of a Task that failed where no hook saw it; False if nowhere to write."""
    launch = launch_context(config)
    task = _task_name(managed_name)
    if launch.run is None or launch.work_dir is None:
        print(f"lute_launch: {task} {status.name} not journaled: the launch tells no "
              "run or work dir (config header, RUN_NUM, EXPERIMENT)", file=sys.stderr)
        return False
    try:
        append_event(Path(launch.work_dir) / JOURNAL_NAME, task=task, run=launch.run,
                     status=status, message=message[:500], experiment=launch.experiment,
                     job=os.environ.get("SLURM_JOB_ID"))
    except (OSError, ValueError) as err:
        print(f"lute_launch: journal not written: {err}", file=sys.stderr)
        return False
    return True


def _exit_status(code: object) -> int:
    """What the interpreter would exit with for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Attach the journal, run the script, journal a failure no hook saw; its exit status."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if arguments else 2
    script, script_arguments = arguments[0], arguments[1:]
    launch = _launch_arguments(script_arguments)
    sys.argv = [script, *script_arguments]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python run_task.py`
    try:
        attach_status_journal()
    except Exception as err:  # LUTE missing or changed: the script will tell; we still try
        print(f"lute_launch: journal not attached to LUTE's Executor: {err!r}", file=sys.stderr)
    status, message, code = TaskStatus.FAILED, "", 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        code, message = _exit_status(stop.code), f"{Path(script).name} exited with {stop.code}"
    except KeyboardInterrupt:
        status, message, code = TaskStatus.CANCELLED, "interrupted", 130
    except BaseException as err:
        traceback.print_exc()
        code, message = 1, f"{type(err).__name__}: {err}"
    if code != 0 and terminal_events_written() == 0:
        journal_launch_failure(launch.taskname, launch.config, status, message)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
