"""A demo experiment: a LUTE result directory written with the model's own classes.

The dashboard must be shown, tested and developed without a beamline.  This
module writes what LUTE leaves after a serial femtosecond crystallography (SFX)
beamtime: ``DIR/work_dir/lute.db`` with one row per Task execution (through
:func:`lute_model.lute_schema.record_task`, LUTE's schema) and
``DIR/stats/summary/<display_name>/report.html`` pages (through
:meth:`ElogSummaryPlots.save`).  The history holds the oddities LUTE produces
in normal use, so that every view meets them before a real experiment does:
reruns, every status, a 0-byte page, an orphan page, a parameter added later,
summaries and payloads in each of LUTE's forms.

:meth:`DemoExperiment.advance` then plays a live experiment one status change
at a time, writing the database only when a Task ends, as LUTE's Executor does.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from lute_model.lute_schema import record_task
from lute_model.results import run_key
from lute_model.sources.journal import JOURNAL_NAME, append_event
from lute_model.status import TaskStatus
from lute_model.summaries import ElogSummaryPlots

# Loads HoloViews' bokeh backend (needed for ``.opts``) without the notebook
# side effects of ``hv.extension``.
hv.renderer("bokeh")

SUBMIT_SMD = "SubmitSMD"
GEOMETRY = "OptimizeAgBhGeometryExhaustive"
FIND_PEAKS = "FindPeaksPyAlgos"
INDEX = "IndexCrystFEL"
CONCATENATE = "ConcatenateStreamFiles"
MERGE = "MergePartialator"
COMPARE = "CompareHKL"
SCAN = "AnalyzeSmallDataXSS"

#: The Tasks of an SFX run, in the order LUTE's workflow runs them.
SFX_CHAIN = (SUBMIT_SMD, FIND_PEAKS, INDEX)
#: Run after every MERGE_EVERY-th run, on all streams so far.
MERGE_CHAIN = (CONCATENATE, MERGE, COMPARE)
MERGE_EVERY = 6

#: Runs of the history that are not SFX data: a beamline starts with a
#: geometry calibration on silver behenate, takes a jet scan and a dark run.
GEOMETRY_RUNS = frozenset({1, 2, 3})
SCAN_RUNS = frozenset({5, 23})
DARK_RUNS = frozenset({10})

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

#: IndexCrystFEL draws its indexing-rate page only before a merge: saving a
#: page takes a quarter of a second, and the demo must build in seconds.
INDEX_PAGE_EVERY = MERGE_EVERY

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


@dataclass(frozen=True)
class Outcome:
    """What a Task leaves: the ``result.*`` columns and the pages it writes."""

    summary: str
    payload: Any
    pages: tuple[ElogSummaryPlots, ...] = ()


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

    def __init__(self, root: Path, seed: int = 0) -> None:
        self.root = Path(root)
        self.experiment = self.root.name
        self.hutch = self.experiment[:3]
        self.facility = f"/sdf/data/lcls/ds/{self.hutch}/{self.experiment}"
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
            env=self._env(task, second_pass), timestamp=_db_time(moment),
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
            "LUTE_CONFIGPATH": f"{self.facility}/results/lute/{config}",
            "LUTE_PATH": "/sdf/group/lcls/ds/tools/lute/latest",
            "SLURM_JOB_ID": str(self._job_id),
            "SLURM_NPROCS": "1" if task in MERGE_CHAIN else "120",
            "SLURM_JOB_PARTITION": "milano",
            "SLURM_JOB_ACCOUNT": f"lcls:{self.experiment}",
        }

    def _last_run_in_db(self) -> int:
        """The highest run already in ``gen_cfg`` (0 for a new folder), to resume a demo."""
        if not self.db_path.exists():
            return 0
        con = sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            runs = [run_key(row[0]) for row in con.execute("SELECT run FROM gen_cfg")]
        except sqlite3.OperationalError:
            runs = []
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

    def page_path(self, display_name: str) -> str:
        """The absolute facility path LUTE stores for a page."""
        return f"{self.facility}/stats/summary/{display_name}/report.html"

    def outcome(self, task: str, run: int, status: TaskStatus) -> Outcome:
        """The result of one try of ``task`` on ``run`` ending with ``status``."""
        if status is TaskStatus.FAILED:
            message = FAILURES[task].format(run=run, experiment=self.experiment,
                                            facility=self.facility)
            payload = self.peaks_list(run) if task == FIND_PEAKS else ""
            return Outcome(message, payload)
        if status is not TaskStatus.COMPLETED:
            return Outcome(STATUS_MESSAGES[status], "")
        return _COMPLETED[task](self, run)

    def parameters(self, task: str, run: int, second_pass: bool = False) -> dict[str, Any]:
        """The Task's parameters as LUTE's config gives them (nested: LUTE flattens them)."""
        params = _PARAMETERS[task](self, run)
        if task == GEOMETRY and second_pass:
            params["threshold"] = 500_000.0
        if task == INDEX and run >= NEW_PARAMETER_RUN:
            params["min_peaks"] = 15
        return params

    def peaks_list(self, run: int) -> str:
        """FindPeaks' list of CXI files, which IndexCrystFEL reads."""
        return f"{self.facility}/work_dir/cxi/{self.experiment}_{run}_lyso.list"

    def stream_file(self, run: int) -> str:
        """IndexCrystFEL's CrystFEL stream for one run."""
        return f"{self.facility}/work_dir/{self.experiment}_r{run:04d}_lyso.stream"

    def smd_file(self, run: int) -> str:
        """SubmitSMD's smalldata HDF5 file for one run."""
        return f"{self.facility}/hdf5/smalldata/{self.experiment}_Run{run:04d}.h5"


# -- parameters ----------------------------------------------------------------


def _submit_smd_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    producer_dir = f"{demo.facility}/results/smalldata_tools/lcls1_producers"
    return {
        "executable": "mpirun", "np": 119, "p_arg1": "python", "u": "", "m": "mpi4py.run",
        "producer": f"{producer_dir}/smd_producer.py", "run": str(run),
        "experiment": demo.experiment, "stn": 0, "nevents": 1_000_000_000, "directory": None,
        "gather_interval": 25, "norecorder": False, "postRuntable": True,
        "lute_template_cfg": {"template_name": "smd1_prod_config_template.py",
                              "output_path": f"{producer_dir}/prod_config_{demo.hutch}.py"},
        "producer_parameters": {
            "detnames": ["jungfrau4M", "Rayonix"],
            "epicsPV": [[f"{demo.hutch.upper()}:LJH:JET:X", "jet_x"],
                        [f"{demo.hutch.upper()}:LJH:JET:Y", "jet_y"]],
            "getROIs": {"jungfrau4M": [{"ROI": [[[0, 8], [0, 512], [0, 1024]]],
                                        "writeArea": False, "thresADU": None}]},
            "getAzIntParams": {"jungfrau4M": {"eBeam": 9.5, "center": [87526.8, 92773.3],
                                              "dis_to_sam": 120.0, "qbin": 0.005}},
        },
    }


def _geometry_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {
        "detname": "jungfrau4M",
        "powder": f"{demo.facility}/work_dir/powder/r{run:04d}_powder.h5",
        "geom_out_dir": f"{demo.facility}/work_dir/geom", "mask": None, "n_peaks": 5,
        "n_iterations": 8, "threshold": 1_000_000.0, "dx": [-6.0, 6.0, 5], "dy": [-6.0, 6.0, 5],
        "center_guess": None, "distance_guess": None,
    }


def _find_peaks_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {
        "outdir": f"{demo.facility}/work_dir/cxi", "n_events": 0, "det_name": "jungfrau4M",
        "event_receiver": "evr1", "tag": "lyso",
        "pv_camera_length": f"{demo.hutch.upper()}:DET:MMS:04.RBV", "event_logic": False,
        "event_code": 0, "psana_mask": True, "mask_file": None, "min_peaks": 15,
        "max_peaks": 2048, "npix_min": 2, "npix_max": 40, "amax_thr": 50.0, "atot_thr": 200.0,
        "son_min": 8.0, "peak_rank": 3, "r0": 3.0, "dr": 2.0, "nsigm": 8.0, "compression": None,
        "out_file": demo.peaks_list(run),
    }


def _index_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/indexamajig",
        "in_file": demo.peaks_list(run), "out_file": demo.stream_file(run), "peaks": "cxi",
        "geometry": f"{demo.facility}/work_dir/geom/r0003.geom", "zmq_input": None,
        "nthreads": 120, "indexing": "xgandalf",
        "cell_file": f"{demo.facility}/work_dir/lysozyme.cell", "tolerance": "5,5,5,1.5",
        "multi": True, "profile": False, "no_revalidate": True, "integration": "rings-nocen",
        "int_radius": "4,5,7", "push_res": "infinity", "xgandalf_fast_execution": False,
        "no_non_hits_in_stream": False, "harvest_file": None,
    }


def _concatenate_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {"in_file": f"{demo.facility}/work_dir", "tag": "lyso",
            "out_file": f"{demo.facility}/lyso.stream"}


def _merge_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/partialator",
        "in_file": f"{demo.facility}/lyso.stream", "out_file": f"{demo.facility}/lyso.hkl",
        "symmetry": "4/mmm", "niter": 2, "model": "xsphere", "nthreads": 64,
        "min_measurements": 2, "max_rel_B": 100.0, "push_res": None, "no_logs": False,
    }


def _compare_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/compare_hkl",
        "in_files": f"{demo.facility}/lyso.hkl1 {demo.facility}/lyso.hkl2",
        "symmetry": "4/mmm", "cell_file": f"{demo.facility}/work_dir/lysozyme.cell",
        "fom": "CCstar", "nshells": 10, "shell_file": f"{demo.facility}/lyso_CCstar_n10.dat",
        "ignore_negs": False, "zero_negs": False, "sigma_cutoff": None, "highres": 1.8,
    }


def _scan_parameters(demo: DemoExperiment, run: int) -> dict[str, Any]:
    return {"smd_path": demo.smd_file(run), "xss_detname": "jungfrau4M", "ipm_var": "ipm_dg2",
            "scan_var": ["jet_x"], "thresholds": {"min_Iscat": 10.0, "min_ipm": 1000.0}}


_PARAMETERS: dict[str, Callable[[DemoExperiment, int], dict[str, Any]]] = {
    SUBMIT_SMD: _submit_smd_parameters, GEOMETRY: _geometry_parameters,
    FIND_PEAKS: _find_peaks_parameters, INDEX: _index_parameters,
    CONCATENATE: _concatenate_parameters, MERGE: _merge_parameters,
    COMPARE: _compare_parameters, SCAN: _scan_parameters,
}


# -- completed results and their pages ------------------------------------------


def _submit_smd_result(demo: DemoExperiment, run: int) -> Outcome:
    if run not in DARK_RUNS:
        return Outcome("", demo.smd_file(run))
    name = f"calib/jungfrau4M/r{run:04d}"
    pedestal = 3000 + demo.rng.normal(0, 40, (48, 48)).round()
    figure = hv.Image(pedestal, bounds=(0, 0, 48, 48), kdims=["column", "row"], vdims=["ADU"])
    figure = figure.opts(cmap="gray", colorbar=True, width=420, height=360,
                         title=f"jungfrau4M pedestal, gain stage 0 (dark run {run})")
    summary = f"Dark run: pedestals and noise for jungfrau4M;{demo.page_path(name)}"
    return Outcome(summary, demo.smd_file(run), (ElogSummaryPlots(display_name=name,
                                                                    figures=figure),))


def _geometry_result(demo: DemoExperiment, run: int) -> Outcome:
    name = f"Geometry_Fit/r{run:04d}"
    distance = round(float(demo.rng.normal(120.0, 0.8)), 1)
    center = np.round(demo.rng.normal(64.0, 1.5, 2), 1)
    summary = (f"Detector distance (mm): {distance};Detector center (pixels): "
               f"({center[0]}, {center[1]});Detector edge resolution (A): "
               f"{2.4 * 120.0 / distance:.3f};{demo.page_path(name)}")
    figure = _geometry_figure(demo.rng, distance, center)
    return Outcome(summary, "", (ElogSummaryPlots(display_name=name, figures=figure),))


def _find_peaks_result(demo: DemoExperiment, run: int) -> Outcome:
    events = int(demo.rng.integers(55_000, 75_000))
    hit_rate = float(np.clip(demo.rng.normal(0.3, 0.06), 0.05, 0.6))
    demo.hit_rates[run] = hit_rate
    name = f"r{run}/powders"  # LUTE's FindPeaks does not zero-pad this tab
    summary = (f"Number of events processed: {events};Number of hits found: "
               f"{int(events * hit_rate)};Fractional hit rate: {hit_rate:.2f};"
               f"{demo.page_path(name)}")
    figures = _powders_tabs(demo.rng, run, events, hit_rate)
    return Outcome(summary, "", (ElogSummaryPlots(display_name=name, figures=figures),))


def _index_result(demo: DemoExperiment, run: int) -> Outcome:
    rate = float(np.clip(demo.rng.normal(0.45, 0.08), 0.05, 0.8))
    demo.indexing_rates[run] = rate
    summary = (f"Number of lattices indexed: {int(rate * demo.rng.integers(300, 400))};"
               f"Indexing rate: {rate:.2f}")
    if run % INDEX_PAGE_EVERY:
        return Outcome(summary, demo.stream_file(run))
    name = f"indexing/r{run:04d}"
    figures = _rates_by_run(demo.hit_rates, demo.indexing_rates)
    page = ElogSummaryPlots(display_name=name, figures=figures)
    return Outcome(f"{summary};{demo.page_path(name)}", demo.stream_file(run), (page,))


def _concatenate_result(demo: DemoExperiment, run: int) -> Outcome:
    return Outcome("PENDING", "")  # the Task never sets a summary: LUTE keeps "PENDING"


def _merge_result(demo: DemoExperiment, run: int) -> Outcome:
    return Outcome("", f"{demo.facility}/lyso.hkl")


def _compare_result(demo: DemoExperiment, run: int) -> Outcome:
    name = f"r{run}/CCstar"
    shells = np.linspace(0.05, 0.55, 10)  # 1/d, 1/Angstrom
    ccstar = np.clip(1.0 - 0.9 * shells**2 - demo.rng.normal(0, 0.01, 10), 0, 1)
    stats = np.array([ccstar[0], ccstar.mean(), 4916.0 + run, 10.58, ccstar[-1], 1.145])
    summary = f"CCstar: {np.array2string(stats, precision=6)};{demo.page_path(name)}"
    curve = hv.Curve((shells, ccstar), "1/d (1/A)", "CC*") * hv.Scatter((shells, ccstar))
    figure = curve.opts(hv.opts.Curve(width=480, height=320, title=f"CC* by shell, runs 1-{run}"),
                        hv.opts.Scatter(size=6))
    return Outcome(summary, f"{demo.facility}/lyso_CCstar_n10.dat",
                   (ElogSummaryPlots(display_name=name, figures=figure),))


def _scan_result(demo: DemoExperiment, run: int) -> Outcome:
    name = f"scans/{run:04d} jet x scan"
    positions = np.linspace(-0.5, 0.5, 21)
    best = float(demo.rng.normal(0.1, 0.05))
    signal = np.exp(-((positions - best) / 0.15) ** 2) + demo.rng.normal(0, 0.03, 21)
    summary = f"Scan variable: jet_x;Points: 21;Best jet_x (mm): {best:.3f};{demo.page_path(name)}"
    page = ElogSummaryPlots(display_name=name, figures=_scan_figure(positions, signal, run))
    return Outcome(summary, signal.astype(np.float64).tobytes(), (page,))


_COMPLETED: dict[str, Callable[[DemoExperiment, int], Outcome]] = {
    SUBMIT_SMD: _submit_smd_result, GEOMETRY: _geometry_result, FIND_PEAKS: _find_peaks_result,
    INDEX: _index_result, CONCATENATE: _concatenate_result, MERGE: _merge_result,
    COMPARE: _compare_result, SCAN: _scan_result,
}


# -- figures: small, so that a page stays well under 300 kB -------------------------


def _powder(rng: np.random.Generator, center: np.ndarray, size: int = 64) -> np.ndarray:
    """A detector powder: Debye-Scherrer rings on a falling background, with shot noise.

    One ADU is added so that no pixel is 0: the page shows it on a log scale.
    """
    y, x = np.indices((size, size))
    radius = np.hypot(x - center[0], y - center[1])
    rings = sum(np.exp(-((radius - r) / 1.2) ** 2) * 60 / k
                for k, r in enumerate((9.0, 18.0, 27.0, 36.0), 1))
    return rng.poisson(rings + 400 / (radius + 8)).astype(np.float64) + 1


def _powders_tabs(rng: np.random.Generator, run: int, events: int, hit_rate: float) -> pn.Tabs:
    """FindPeaks' page: the run's powder, and its numbers as a table.

    The numbers are Markdown rather than a second plot: a plot costs a tenth
    of a second to save, and there is one such page per run.
    """
    image = hv.Image(_powder(rng, np.array([32.0, 32.0])), bounds=(0, 0, 64, 64),
                     kdims=["x (pixels)", "y (pixels)"], vdims=["ADU"])
    image = image.opts(cmap="viridis", colorbar=True, logz=True, width=420, height=380,
                       title=f"Max powder, run {run}")
    table = pn.pane.Markdown(f"| Events | Hits | Hit rate |\n|---|---|---|\n"
                             f"| {events} | {int(events * hit_rate)} | {hit_rate:.2f} |")
    return pn.Tabs(("Powder", image), ("Hits", table))


def _rates_by_run(hit_rates: dict[int, float], indexing_rates: dict[int, float]) -> hv.Layout:
    """Hit and indexing rates of every run so far: drops show a bad sample or geometry."""
    bars = hv.Bars(sorted(hit_rates.items()), "Run", "Hit rate").opts(
        color="#0072B2", width=480, height=260, ylim=(0, 1), title="Hit rate by run")
    points = sorted(indexing_rates.items())
    curve = hv.Curve(points, "Run", "Indexing rate") * hv.Scatter(points, "Run", "Indexing rate")
    curve = curve.opts(hv.opts.Curve(width=480, height=260, ylim=(0, 1), color="#009E73",
                                     title="Indexing rate by run"),
                       hv.opts.Scatter(size=6, color="#009E73"))
    return (bars + curve).cols(1)


def _geometry_figure(rng: np.random.Generator, distance: float, center: np.ndarray) -> Figure:
    """The AgBh fit: the powder with the fitted rings, and the score of each distance tried."""
    figure = Figure(figsize=(8, 3.5))
    powder_ax, score_ax = figure.subplots(1, 2)
    powder_ax.imshow(np.log1p(_powder(rng, center)), origin="lower", cmap="magma")
    for radius in (9.0, 18.0, 27.0, 36.0):
        powder_ax.add_patch(_ring(center, radius))
    powder_ax.set_title("AgBh powder and fitted rings")
    distances = np.linspace(distance - 6, distance + 6, 13)
    score_ax.plot(distances, np.exp(-((distances - distance) / 3) ** 2), "o-")
    score_ax.axvline(distance, color="#D55E00", linestyle="--")
    score_ax.set(xlabel="Detector distance (mm)", ylabel="Ring fit score",
                 title=f"Best distance {distance} mm")
    return figure


def _ring(center: np.ndarray, radius: float) -> Circle:
    return Circle(tuple(center), radius, fill=False, color="white", linewidth=0.8)


def _scan_figure(positions: np.ndarray, signal: np.ndarray, run: int) -> Figure:
    """A motor scan: scattering signal against the jet position."""
    figure = Figure(figsize=(5, 3.5))
    axes = figure.subplots()
    axes.plot(positions, signal, "o-", color="#0072B2")
    axes.set(xlabel="jet_x (mm)", ylabel="Normalized scattering", title=f"Jet x scan, run {run}")
    return figure


def build_demo(root: Path, runs: int = 36) -> DemoExperiment:
    """A demo experiment at ``root``: built with ``runs`` runs if new, else resumed."""
    demo = DemoExperiment(root)
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
