"""A demo experiment: a LUTE result directory written with the model's own classes.

The dashboard must be shown, tested and developed without a beamline.  This
module writes what LUTE leaves after a serial femtosecond crystallography (SFX)
beamtime: ``DIR/work_dir/lute.db`` with one execution per Task run (through
:func:`lute_writers.lute_schema.record_task`, in LUTE's v2 layout as current
LUTE writes it, or its v1 layout as LUTE wrote it until 2025) and
``DIR/stats/summary/<display_name>/report.html`` pages (through
:meth:`ElogSummaryPlots.save`).  The history holds the oddities LUTE produces
in normal use, so that every view meets them before a real experiment does:
reruns, every status, a 0-byte page, an orphan page, a parameter added later,
summaries and payloads in each of LUTE's forms.

:meth:`DemoExperiment.advance` then plays a live experiment one status change
at a time, writing the database only when a Task ends, as LUTE's Executor does.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from lute_demo.demo_tasks import (
    COMPARE,
    COMPLETED,
    CONCATENATE,
    DARK_RUNS,
    FIND_PEAKS,
    GEOMETRY,
    INDEX,
    MERGE,
    MERGE_EVERY,
    PARAMETERS,
    SCAN,
    SUBMIT_SMD,
    FacilityPaths,
    Outcome,
    TaskInputs,
)
from lute_model.runs import run_key
from lute_model.status import TaskStatus
from lute_writers.journal import JOURNAL_NAME, append_event
from lute_writers.lute_schema import record_task
from lute_writers.summary_plots import ElogSummaryPlots

#: The Tasks of an SFX run, in the order LUTE's workflow runs them.
SFX_CHAIN = (SUBMIT_SMD, FIND_PEAKS, INDEX)
#: Run after every MERGE_EVERY-th run, on all streams so far.
MERGE_CHAIN = (CONCATENATE, MERGE, COMPARE)

#: Runs of the history that are not SFX data: a beamline starts with a
#: geometry calibration on silver behenate, takes a jet scan and a dark run.
GEOMETRY_RUNS = frozenset({1, 2, 3})
SCAN_RUNS = frozenset({5, 23})

#: The tries of a Task in the history, when not one COMPLETED.  ``None`` is
#: LUTE's "Database storage error": pages written, no row stored (an orphan).
#: All are at run 12 or before, so that a short history still has them all.
HISTORY_TRIES: dict[tuple[int, str], tuple[TaskStatus | None, ...]] = {
    (1, GEOMETRY): (TaskStatus.FAILED, TaskStatus.COMPLETED),
    (2, GEOMETRY): (None,),
    (6, MERGE): (TaskStatus.TIMEDOUT,),
    (8, FIND_PEAKS): (TaskStatus.FAILED, TaskStatus.COMPLETED),
    (9, INDEX): (TaskStatus.CANCELLED, TaskStatus.COMPLETED),
    (11, FIND_PEAKS): (TaskStatus.STOPPED, TaskStatus.COMPLETED),
    (12, SUBMIT_SMD): (TaskStatus.RUNNING, TaskStatus.COMPLETED),
    (12, COMPARE): (TaskStatus.PENDING, TaskStatus.COMPLETED),
    (15, INDEX): (TaskStatus.FAILED,),
    (27, FIND_PEAKS): (TaskStatus.FAILED,),
}

#: A COMPLETED Task whose page LUTE could not write: a 0-byte page with a row.
EMPTY_PAGE_TASK = (12, INDEX)

#: Run from which IndexCrystFEL gets a new parameter: LUTE adds its column
#: with ALTER TABLE, after ``valid_flag``, NULL in older rows.
NEW_PARAMETER_RUN = 20

TASK_TIMEOUT = 7200
TITLE = "LUTE Task Configuration - SFX lysozyme, jungfrau4M"
SECOND_PASS_TITLE = "AgBh refinement - second pass"

#: A live Task's final statuses and their chances.
LIVE_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.TIMEDOUT)
LIVE_CHANCES = (0.86, 0.09, 0.05)

#: Why a Task failed, as its summary says it (formatted with the run's paths).
FAILURES: dict[str, str] = {
    SUBMIT_SMD: "smalldata_tools exited with code 1: KeyError: 'jungfrau4M' not in run {run}",
    GEOMETRY: ("ValueError: fewer than 5 AgBh rings above threshold 1000000.0 in "
               "{facility}/work_dir/powder/r{run:04d}_powder.h5"),
    FIND_PEAKS: ("RuntimeError: psana DataSource('exp={experiment}:run={run}:smd') "
                 "found no xtc2 files in {facility}/xtc"),
    INDEX: ("indexamajig exited with code 1: Failed to read geometry file "
            "{facility}/work_dir/geom/r0003.geom"),
    CONCATENATE: "FileNotFoundError: no .stream files with tag 'lyso' in {facility}/work_dir",
    MERGE: "partialator exited with code 255: Not enough reflections to scale (0 after cut)",
    COMPARE: "compare_hkl exited with code 1: {facility}/lyso.hkl1: no reflections",
    SCAN: "KeyError: scan variable 'jet_x' not found in the smalldata file",
}

#: Summaries of statuses other than COMPLETED and FAILED.
STATUS_MESSAGES: dict[TaskStatus, str] = {
    TaskStatus.PENDING: "Task never started: the Executor was stopped while it was queued",
    TaskStatus.RUNNING: "Executor lost contact with the Task (node sdfmilan042 down)",
    TaskStatus.STOPPED: "Task stopped by the operator (SIGTSTP) to free the nodes",
    TaskStatus.CANCELLED: "SLURM job cancelled by the operator (scancel)",
    TaskStatus.TIMEDOUT: f"Task exceeded task_timeout ({TASK_TIMEOUT} s) and was killed",
}


def pipeline(run: int, history: bool = True) -> tuple[str, ...]:
    """The Tasks LUTE runs for ``run``; the calibration runs exist only in the history."""
    if history and run in GEOMETRY_RUNS:
        return (SUBMIT_SMD, GEOMETRY)
    if history and run in SCAN_RUNS:
        return (SUBMIT_SMD, SCAN)
    if history and run in DARK_RUNS:
        return (SUBMIT_SMD,)
    merge = MERGE_CHAIN if run % MERGE_EVERY == 0 else ()
    return SFX_CHAIN + merge


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _db_time(moment: datetime) -> str:
    """The text SQLite's CURRENT_TIMESTAMP gives, which LUTE's rows hold."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class DemoExperiment:
    """A fake but realistic SFX experiment in a folder, written like LUTE writes one.

    The experiment's name is the folder's name (as LUTE's folders are named
    after the experiment), its hutch the name's first three letters.
    """

    def __init__(self, root: Path, seed: int = 0, layout: str = "v2") -> None:
        self.root = Path(root)
        self.layout = layout
        self.paths = FacilityPaths(self.root.name)
        self.experiment = self.paths.experiment
        self.db_path = self.root / "work_dir" / "lute.db"
        self.summary_root = self.root / "stats" / "summary"
        self.rng = np.random.default_rng(seed)
        self.indexing_rates: dict[int, float] = {}
        self.hit_rates: dict[int, float] = {}
        self.config_date = _now().strftime("%Y/%m/%d")
        self.next_run = self._last_run_in_db() + 1
        self._job_id = 58_810_000 + int(self.rng.integers(0, 9_000))
        self._queue: list[str] = []
        self._running: str | None = None
        self._live_run = 0

    # -- the history -------------------------------------------------------

    def build(self, runs: int = 36) -> None:
        """Write ``runs`` runs of history, back-dated so that the last ends about now."""
        if self.db_path.exists():
            raise FileExistsError(f"{self.db_path} exists: build the demo in a new folder")
        clock = _now() - timedelta(minutes=12 * runs)  # a run takes 12 minutes on average
        self.config_date = clock.strftime("%Y/%m/%d")
        for run in range(1, runs + 1):
            clock = self._build_run(run, clock)
        self.next_run = runs + 1

    def _build_run(self, run: int, clock: datetime) -> datetime:
        """Write one run's Tasks in order; a Task that does not complete ends the run."""
        for task in pipeline(run):
            status: TaskStatus | None = None
            for status in HISTORY_TRIES.get((run, task), (TaskStatus.COMPLETED,)):
                clock = min(clock + timedelta(minutes=int(self.rng.integers(2, 6))), _now())
                self._end_task(task, run, status, clock, (run, task) == EMPTY_PAGE_TASK)
            if status is not TaskStatus.COMPLETED:
                break
        return clock

    def _end_task(self, task: str, run: int, status: TaskStatus | None, moment: datetime,
                  empty_pages: bool = False) -> Outcome:
        """Do what LUTE's Executor does when a Task ends: write its pages, then its row."""
        outcome = self.outcome(task, run, status or TaskStatus.COMPLETED)
        if outcome.hit_rate is not None:
            self.hit_rates[run] = outcome.hit_rate
        if outcome.indexing_rate is not None:
            self.indexing_rates[run] = outcome.indexing_rate
        for page in outcome.pages:
            self._save_page(page, empty_pages)
        if status is None:
            return outcome
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        second_pass = (run, task) == (1, GEOMETRY) and status is TaskStatus.COMPLETED
        self._job_id += 1
        record_task(
            str(self.db_path), task=task, run=str(run), status=status,
            summary=outcome.summary, payload=outcome.payload,
            parameters=self.parameters(task, run, second_pass),
            experiment=self.experiment, title=SECOND_PASS_TITLE if second_pass else TITLE,
            date=self.config_date, task_timeout=TASK_TIMEOUT,
            env=self._env(task, second_pass), timestamp=_db_time(moment), layout=self.layout,
            executor="MPIExecutor" if task in SFX_CHAIN else "Executor",
        )
        return outcome

    def _save_page(self, page: ElogSummaryPlots, empty: bool) -> None:
        """Save a page; ``empty`` leaves the 0-byte file LUTE leaves when it cannot write one."""
        if empty:
            target = page.name_parts.report_path(self.summary_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
            return
        page.save(self.summary_root)

    def _env(self, task: str, second_pass: bool) -> dict[str, str]:
        """The LUTE_* and SLURM_* variables of the job; each job has its own SLURM_JOB_ID."""
        config = "lute_config_geom_pass2.yaml" if second_pass else "lute_config.yaml"
        return {
            "LUTE_CONFIGPATH": f"{self.paths.base}/results/lute/{config}",
            "LUTE_PATH": "/sdf/group/lcls/ds/tools/lute/latest",
            "SLURM_JOB_ID": str(self._job_id),
            "SLURM_NPROCS": "1" if task in MERGE_CHAIN else "120",
            "SLURM_JOB_PARTITION": "milano",
            "SLURM_JOB_ACCOUNT": f"lcls:{self.experiment}",
        }

    def _last_run_in_db(self) -> int:
        """The highest run already stored, in either layout's header table (0 for a new
        folder), to resume a demo."""
        if not self.db_path.exists():
            return 0
        con = sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True)
        runs = []
        try:
            for table in ("gen_cfg", "config"):
                with contextlib.suppress(sqlite3.OperationalError):  # the other layout's
                    runs += [run_key(row[0]) for row in con.execute(f"SELECT run FROM {table}")]
        finally:
            con.close()
        return max((run for run in runs if isinstance(run, int)), default=0)

    # -- the live experiment -----------------------------------------------

    def advance(self) -> list[dict]:
        """Move the live experiment one step and return the status events it produced.

        A new run queues all its Tasks (PENDING); then each call starts the next
        Task (RUNNING) or ends the running one (COMPLETED mostly, sometimes
        FAILED or TIMEDOUT), writing its row and pages only then, as LUTE does.
        A Task that does not complete cancels the rest of its run.
        """
        moment = _now()
        if self._running is not None:
            return self._end_live_task(moment)
        if self._queue:
            self._running = self._queue.pop(0)
            return [self._event(moment, self._running, TaskStatus.RUNNING, "Task started")]
        self._live_run = self.next_run
        self.next_run += 1
        self._queue = list(pipeline(self._live_run, history=False))
        return [self._event(moment, task, TaskStatus.PENDING, "Task queued")
                for task in self._queue]

    def _end_live_task(self, moment: datetime) -> list[dict]:
        task, self._running = self._running, None
        status = LIVE_STATUSES[int(self.rng.choice(len(LIVE_STATUSES), p=LIVE_CHANCES))]
        summary = self._end_task(task, self._live_run, status, moment).summary
        message = summary.split(";/")[0] or f"Task {status.name.lower()}"
        events = [self._event(moment, task, status, message)]
        if status is not TaskStatus.COMPLETED:
            events += [self._event(moment, queued, TaskStatus.CANCELLED,
                                   f"Not run: {task} ended {status.name}")
                       for queued in self._queue]
            self._queue = []
        return events

    def _event(self, moment: datetime, task: str, status: TaskStatus, message: str) -> dict:
        return {"time": moment.isoformat(), "task": task, "run": str(self._live_run),
                "status": status.name, "message": message}

    # -- what each Task is given and leaves ----------------------------------

    def outcome(self, task: str, run: int, status: TaskStatus) -> Outcome:
        """The result of one try of ``task`` on ``run`` ending with ``status``."""
        if status is TaskStatus.FAILED:
            message = FAILURES[task].format(run=run, experiment=self.experiment,
                                            facility=self.paths.base)
            payload = self.paths.peaks_list(run) if task == FIND_PEAKS else ""
            return Outcome(message, payload)
        if status is not TaskStatus.COMPLETED:
            return Outcome(STATUS_MESSAGES[status], "")
        given = TaskInputs(self.paths, self.rng, MappingProxyType(self.hit_rates),
                           MappingProxyType(self.indexing_rates))
        return COMPLETED[task](given, run)

    def parameters(self, task: str, run: int, second_pass: bool = False) -> dict[str, Any]:
        """The Task's parameters as LUTE's config gives them (nested: LUTE flattens them)."""
        params = PARAMETERS[task](self.paths, run)
        if task == GEOMETRY and second_pass:
            params["threshold"] = 500_000.0
        if task == INDEX and run >= NEW_PARAMETER_RUN:
            params["min_peaks"] = 15
        return params


def build_demo(root: Path, runs: int = 36, layout: str = "v2") -> DemoExperiment:
    """A demo experiment at ``root``: built with ``runs`` runs if new, else resumed.

    ``layout`` is the database layout new executions are stored in: ``"v2"``
    (current LUTE) or ``"v1"``; a resumed v1 demo given ``"v2"`` spans an upgrade.
    """
    demo = DemoExperiment(root, layout=layout)
    if not demo.db_path.exists():
        demo.build(runs)
    return demo


def run_live(demo: DemoExperiment, interval: float, steps: int | None = None) -> None:
    """Keep the demo alive: one ``advance`` every ``interval`` seconds, events to the journal.

    This is what LUTE and the hook adapter do at a beamline, compressed: the
    journal gets every status change, ``lute.db`` a row when a Task ends.
    """
    journal = demo.db_path.parent / JOURNAL_NAME
    done = 0
    while steps is None or done < steps:
        for event in demo.advance():
            append_event(journal, experiment=demo.experiment, **event)
        done += 1
        time.sleep(interval)
