"""The Executor hook and the launcher, against a stand-in with LUTE's hook semantics.

LUTE is not installed here: ``tests/support/lute_standin.py`` says what the
stand-in keeps of LUTE's Executor and what it leaves out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lute_model.sources.journal import JOURNAL_NAME
from lute_writers.lute_hooks import attach_status_journal, journal_attached, launch_context
from tests.support.lute_standin import (
    Message,
    ParametersReference,
    TaskScript,
    make_lute,
    parameters,
    result,
    started,
)
from tests.support.servers import REPO


@pytest.fixture
def lute(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    for name in ("LUTE_CONFIGPATH", "RUN_NUM", "RUN", "EXPERIMENT", "LUTE_WORK_DIR",
                 "SLURM_JOB_ID"):
        monkeypatch.delenv(name, raising=False)
    return make_lute()


@pytest.fixture
def executor(lute: SimpleNamespace) -> Any:
    """A managed Executor with the journal attached, as most tests need."""
    executor = lute.Executor("FindPeaksPyAlgos")
    attach_status_journal(executor)
    return executor


def events(folder: Path) -> list[tuple[str, str, str]]:
    journal = folder / JOURNAL_NAME
    lines = journal.read_text().splitlines() if journal.exists() else []
    return [(e["task"], e["run"], e["status"]) for e in map(json.loads, lines)]


def test_the_stand_in_drops_earlier_hooks_at_each_construction(lute):
    first = lute.Executor("FindPeaksPyAlgos")
    first.add_hook("task_done", lambda executor, msg, proc=None: "mine")
    assert first.Hooks.task_done(first, msg=Message()) == "mine"
    lute.Executor("IndexCrystFEL")  # as importing lute.managed_tasks does, dozens of times
    assert first.Hooks.task_done(first, msg=Message()) is None  # "mine" is gone for both
    assert first.Hooks is lute.Executor.Hooks is lute.BaseExecutor.Hooks


def test_a_completed_task_journals_running_then_completed_from_its_result(lute, executor, tmp_path):
    executor.script = TaskScript([started(tmp_path), result()])
    executor.execute_task()
    assert events(tmp_path) == [("FindPeaksPyAlgos", "12", "RUNNING"),
                                ("FindPeaksPyAlgos", "12", "COMPLETED")]
    assert ("FindPeaksPyAlgos", "COMPLETED") in lute.elog  # LUTE's own hooks still ran


def test_a_failed_task_is_one_failed_event_written_before_the_executor_exits(executor, tmp_path):
    executor.script = TaskScript([started(tmp_path), Message("segfault", "TASK_FAILED")], 1)
    with pytest.raises(SystemExit):
        executor.execute_task()
    assert [e[2] for e in events(tmp_path)] == ["RUNNING", "FAILED"]
    assert json.loads((tmp_path / JOURNAL_NAME).read_text().splitlines()[1])["message"] \
        == "segfault"


def test_executors_built_after_attaching_still_journal(lute, tmp_path):
    attach_status_journal(lute.Executor)
    managed = [lute.Executor(name) for name in ("FindPeaksPyAlgos", "IndexCrystFEL", "SubmitSMD")]
    managed[0].script = TaskScript([started(tmp_path), result()])
    managed[0].execute_task()
    assert [e[2] for e in events(tmp_path)] == ["RUNNING", "COMPLETED"]
    assert journal_attached(lute.Executor)


def test_two_executors_share_the_hooks_and_each_journals_its_own_task(lute, tmp_path):
    peaks, index = lute.Executor("FindPeaksPyAlgos"), lute.Executor("IndexCrystFEL")
    attach_status_journal(peaks)
    index_result = result()
    index_result.contents.task_name = "IndexCrystFEL"
    peaks.script = TaskScript([started(tmp_path), result()])
    index.script = TaskScript([started(tmp_path), index_result])
    peaks.execute_task()
    index.execute_task()
    assert [(task, status) for task, _, status in events(tmp_path)] == [
        ("FindPeaksPyAlgos", "RUNNING"), ("FindPeaksPyAlgos", "COMPLETED"),
        ("IndexCrystFEL", "RUNNING"), ("IndexCrystFEL", "COMPLETED")]


def test_attaching_again_changes_nothing(lute, tmp_path):
    executor = lute.Executor("FindPeaksPyAlgos")
    patched = attach_status_journal(executor)
    hook, add_hook = lute.Executor.Hooks.task_started, patched.add_hook
    attach_status_journal(lute.Executor)
    attach_status_journal(executor)
    assert (lute.Executor.Hooks.task_started, patched.add_hook) == (hook, add_hook)
    executor.script = TaskScript([started(tmp_path), result()])
    executor.execute_task()
    assert len(events(tmp_path)) == 2


def test_hooks_get_exactly_what_lute_passes_and_give_their_answer_back(executor):
    calls = []

    def task_done(_executor, *args, **kwargs):
        calls.append((args, kwargs))
        return "answer"

    def task_failed(_executor, msg):  # the August 2024 signature: no proc at all
        return "old"

    executor.add_hook("task_done", task_done)  # added after attaching: journals all the same
    executor.add_hook("task_failed", task_failed)
    exit_msg, proc = Message(), object()
    assert executor.Hooks.task_done(executor, msg=exit_msg) == "answer"  # LUTE's exit call
    assert executor.Hooks.task_done(executor, exit_msg, proc) == "answer"  # LUTE's loop
    assert calls == [((), {"msg": exit_msg}), ((exit_msg, proc), {})]
    assert executor.Hooks.task_failed(executor, msg=exit_msg) == "old"
    assert executor.Hooks.task_result(executor, result(), proc) is True
    assert journal_attached(executor)


def test_an_executor_that_crashes_mid_task_ends_failed_in_the_journal(executor, tmp_path):

    def task_log(_executor, msg, proc=None):  # not a status hook: an error of LUTE's IPC
        raise ConnectionError("socket closed")

    executor.add_hook("task_log", task_log)
    executor.script = TaskScript([started(tmp_path), Message("...", "TASK_LOG")])
    with pytest.raises(ConnectionError):
        executor.execute_task()
    assert [e[2] for e in events(tmp_path)] == ["RUNNING", "FAILED"]


def test_a_timeout_is_journaled_as_timedout_not_failed(lute, executor, tmp_path):
    executor.script = TaskScript([started(tmp_path)], returncode=1, times_out=True,
                                 after_timeout=[Message("Timed out.", "TASK_FAILED")])
    with pytest.raises(SystemExit):
        executor.execute_task()
    assert [e[2] for e in events(tmp_path)] == ["RUNNING", "TIMEDOUT"]
    assert lute.records == [("FindPeaksPyAlgos", "TIMEDOUT")]


def test_timedout_is_on_disk_as_soon_as_the_executor_sends_sigalrm(executor, tmp_path):
    executor.Hooks.task_started(executor, started(tmp_path), None)
    executor._sigalrm_task(SimpleNamespace(signals=[]))  # the Executor may now wait forever
    assert [e[2] for e in events(tmp_path)] == ["RUNNING", "TIMEDOUT"]


def test_running_is_on_disk_before_lutes_start_hook_waits_for_the_pause(executor, tmp_path):
    seen = []
    executor.script = TaskScript([started(tmp_path), result()],
                                 while_pausing=lambda: seen.extend(events(tmp_path)))
    executor.execute_task()
    assert [e[2] for e in seen] == ["RUNNING"]


def test_a_parameter_reference_at_start_gives_the_run_from_the_database(lute, executor, tmp_path):
    lute.db[(7,)] = parameters("/not/yet/known", run="0040")
    executor.script = TaskScript([Message(ParametersReference(str(tmp_path), (7,)),
                                          "TASK_STARTED"), result()])
    executor.execute_task()
    assert events(tmp_path) == [("FindPeaksPyAlgos", "0040", "RUNNING"),
                                ("FindPeaksPyAlgos", "0040", "COMPLETED")]


def test_an_unreadable_reference_still_journals_running_from_the_launch(executor, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("RUN_NUM", "12_2024-10-23T10:00:00")
    with pytest.raises(KeyError):
        executor.Hooks.task_started(executor, Message(ParametersReference(str(tmp_path)),
                                                      "TASK_STARTED"), None)
    assert events(tmp_path) == [("FindPeaksPyAlgos", "12", "RUNNING")]


def write_config(folder: Path, work_dir: Path | str, run: str = "{{ $RUN }}") -> Path:
    config = folder / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        %YAML 1.3
        ---
        title: "LUTE Task Configuration"
        experiment: "{{{{ $EXPERIMENT }}}}"
        run: "{run}"
        task_timeout: 600
        work_dir: "{work_dir}"
        ...
        ---
        FindPeaksPyAlgos:
          outdir: "{{{{ $NOT_SET }}}}"
        """))
    return config


def test_launch_context_reads_the_config_header_as_lute_does(lute, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPERIMENT", "mfxp1001123")
    monkeypatch.setenv("RUN", "0012")
    context = launch_context(str(write_config(tmp_path, tmp_path)))
    assert (context.run, context.experiment, context.work_dir) == ("12", "mfxp1001123",
                                                                   str(tmp_path))
    monkeypatch.setenv("RUN_NUM", "13_2024-10-23T10:00:00")
    assert launch_context(str(write_config(tmp_path, tmp_path, run=""))).run == "13"
    missing = launch_context(str(write_config(tmp_path, tmp_path / "absent")))
    assert missing.work_dir is None  # LUTE refuses it; and the scratch default is not here


def test_a_task_dying_before_it_starts_is_failed_when_the_launch_tells_where(executor, tmp_path,
                                                                           monkeypatch, caplog):
    executor.script = TaskScript(returncode=1)  # died reading its configuration
    with pytest.raises(SystemExit):
        executor.execute_task()
    assert events(tmp_path) == [] and "run or work_dir unknown" in caplog.text
    monkeypatch.setenv("RUN", "12")
    monkeypatch.setenv("LUTE_CONFIGPATH", str(write_config(tmp_path, tmp_path)))
    with pytest.raises(SystemExit):
        executor.execute_task()
    assert events(tmp_path) == [("FindPeaksPyAlgos", "12", "FAILED")]
    assert "before the Task sent its parameters" in (tmp_path / JOURNAL_NAME).read_text()


FAKE_RUN_TASK = """\
import argparse, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("-c", "--config")
parser.add_argument("-t", "--taskname")
args = parser.parse_args()
os.environ["LUTE_CONFIGPATH"] = args.config
{body}
"""
MANAGED_TASKS = """\
from lute.execution.executor import Executor
PeakFinder = Executor("FindPeaksPyAlgos")
Indexer = Executor("IndexCrystFEL")
"""
EXECUTE = """\
from lute import managed_tasks
from tests.support import lute_standin as standin
task = getattr(managed_tasks, args.taskname)
if os.environ["FAKE_TASK"] == "completes":
    task.script = standin.TaskScript([standin.started(os.environ["WORK"]), standin.result()])
else:
    task.script = standin.TaskScript(returncode=1)
task.execute_task()
"""


def launch(folder: Path, body: str, task: str, **env: str) -> subprocess.CompletedProcess:
    (folder / "run_task.py").write_text(FAKE_RUN_TASK.format(body=body))
    config = write_config(folder, folder)
    environment = {**os.environ, "PYTHONPATH": str(REPO), "RUN": "12",
                   "EXPERIMENT": "mfxp1001123", "WORK": str(folder), **env}
    environment.pop("LUTE_CONFIGPATH", None)
    return subprocess.run([sys.executable, "-m", "lute_writers.lute_launch",
                           str(folder / "run_task.py"), "-c", str(config), "-t", task],
                          cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_launcher_journals_failed_when_run_task_dies_before_any_executor(tmp_path):
    done = launch(tmp_path, 'raise RuntimeError("cannot read the configuration")', "PeakFinder")
    assert done.returncode == 1, done.stderr
    assert "journal not attached" in done.stderr  # no LUTE at all here
    assert events(tmp_path) == [("PeakFinder", "12", "FAILED")]


@pytest.mark.parametrize(("kind", "statuses", "code"), [
    ("dies-reading-config", ["FAILED"], 255), ("completes", ["RUNNING", "COMPLETED"], 0)])
def test_launcher_attaches_before_run_task_builds_the_managed_executors(tmp_path, kind,
                                                                        statuses, code):
    package = tmp_path / "lute" / "execution"
    package.mkdir(parents=True)
    (tmp_path / "lute" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "executor.py").write_text(
        "from tests.support.lute_standin import make_lute\n"
        "_lute = make_lute()\nBaseExecutor, Executor = _lute.BaseExecutor, _lute.Executor\n")
    (tmp_path / "lute" / "managed_tasks.py").write_text(MANAGED_TASKS)
    done = launch(tmp_path, EXECUTE, "PeakFinder", FAKE_TASK=kind)
    assert done.returncode == code, done.stderr
    assert events(tmp_path) == [("FindPeaksPyAlgos", "12", status) for status in statuses]
