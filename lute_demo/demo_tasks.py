"""What each demo Task is given and leaves: parameters, summaries, payloads, pages.

Split from :mod:`lute_demo.demo`, which plays the experiment: this module only
knows, for one Task on one run, the parameters LUTE's config would give it and
the ``result.*`` values and ``report.html`` figures it would leave, in the forms
LUTE's real Tasks use (see ``../shared/docs/lute-results.md``).  It knows
nothing of the demo: a Task is given :class:`FacilityPaths` and
:class:`TaskInputs` and returns an :class:`Outcome`, rates it measured
included, which the demo records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from lute_writers.summary_plots import ElogSummaryPlots

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

#: The merging Tasks run after every MERGE_EVERY-th run.
MERGE_EVERY = 6
#: IndexCrystFEL draws its indexing-rate page only before a merge: saving a
#: page takes a quarter of a second, and the demo must build in seconds.
INDEX_PAGE_EVERY = MERGE_EVERY
#: Dark runs: SubmitSMD writes a pedestal page for the detector's calibration.
DARK_RUNS = frozenset({10})


@dataclass(frozen=True)
class FacilityPaths:
    """The facility paths of one experiment's files, as LUTE's Tasks are given and store them.

    LUTE stores absolute paths below ``/sdf/data/lcls/ds``, whatever folder the
    demo is written to, so the demo's rows carry the same ones.
    """

    experiment: str

    @property
    def hutch(self) -> str:
        """The hutch: the experiment name's first three letters, as at LCLS."""
        return self.experiment[:3]

    @property
    def base(self) -> str:
        """The experiment's folder at the facility."""
        return f"/sdf/data/lcls/ds/{self.hutch}/{self.experiment}"

    def page_path(self, display_name: str) -> str:
        """The absolute facility path LUTE stores for a page."""
        return f"{self.base}/stats/summary/{display_name}/report.html"

    def peaks_list(self, run: int) -> str:
        """FindPeaks' list of CXI files, which IndexCrystFEL reads."""
        return f"{self.base}/work_dir/cxi/{self.experiment}_{run}_lyso.list"

    def stream_file(self, run: int) -> str:
        """IndexCrystFEL's CrystFEL stream for one run."""
        return f"{self.base}/work_dir/{self.experiment}_r{run:04d}_lyso.stream"

    def smd_file(self, run: int) -> str:
        """SubmitSMD's smalldata HDF5 file for one run."""
        return f"{self.base}/hdf5/smalldata/{self.experiment}_Run{run:04d}.h5"


@dataclass(frozen=True)
class TaskInputs:
    """What a completing Task reads: its paths, the random source, the rates of earlier runs.

    The rates are read-only views of the demo's: a Task reports what it
    measured in its :class:`Outcome` and the demo records it.
    """

    paths: FacilityPaths
    rng: np.random.Generator
    hit_rates: Mapping[int, float]
    indexing_rates: Mapping[int, float]


@dataclass(frozen=True)
class Outcome:
    """What a Task leaves: the ``result.*`` columns, the pages it writes, the rates it measured."""

    summary: str
    payload: Any
    pages: tuple[ElogSummaryPlots, ...] = ()
    hit_rate: float | None = None
    indexing_rate: float | None = None


# -- parameters ----------------------------------------------------------------


def _submit_smd_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    producer_dir = f"{paths.base}/results/smalldata_tools/lcls1_producers"
    return {
        "executable": "mpirun", "np": 119, "p_arg1": "python", "u": "", "m": "mpi4py.run",
        "producer": f"{producer_dir}/smd_producer.py", "run": str(run),
        "experiment": paths.experiment, "stn": 0, "nevents": 1_000_000_000, "directory": None,
        "gather_interval": 25, "norecorder": False, "postRuntable": True,
        "lute_template_cfg": {"template_name": "smd1_prod_config_template.py",
                              "output_path": f"{producer_dir}/prod_config_{paths.hutch}.py"},
        "producer_parameters": {
            "detnames": ["jungfrau4M", "Rayonix"],
            "epicsPV": [[f"{paths.hutch.upper()}:LJH:JET:X", "jet_x"],
                        [f"{paths.hutch.upper()}:LJH:JET:Y", "jet_y"]],
            "getROIs": {"jungfrau4M": [{"ROI": [[[0, 8], [0, 512], [0, 1024]]],
                                        "writeArea": False, "thresADU": None}]},
            "getAzIntParams": {"jungfrau4M": {"eBeam": 9.5, "center": [87526.8, 92773.3],
                                              "dis_to_sam": 120.0, "qbin": 0.005}},
        },
    }


def _geometry_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {
        "detname": "jungfrau4M",
        "powder": f"{paths.base}/work_dir/powder/r{run:04d}_powder.h5",
        "geom_out_dir": f"{paths.base}/work_dir/geom", "mask": None, "n_peaks": 5,
        "n_iterations": 8, "threshold": 1_000_000.0, "dx": [-6.0, 6.0, 5], "dy": [-6.0, 6.0, 5],
        "center_guess": None, "distance_guess": None,
    }


def _find_peaks_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {
        "outdir": f"{paths.base}/work_dir/cxi", "n_events": 0, "det_name": "jungfrau4M",
        "event_receiver": "evr1", "tag": "lyso",
        "pv_camera_length": f"{paths.hutch.upper()}:DET:MMS:04.RBV", "event_logic": False,
        "event_code": 0, "psana_mask": True, "mask_file": None, "min_peaks": 15,
        "max_peaks": 2048, "npix_min": 2, "npix_max": 40, "amax_thr": 50.0, "atot_thr": 200.0,
        "son_min": 8.0, "peak_rank": 3, "r0": 3.0, "dr": 2.0, "nsigm": 8.0, "compression": None,
        "out_file": paths.peaks_list(run),
    }


def _index_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/indexamajig",
        "in_file": paths.peaks_list(run), "out_file": paths.stream_file(run), "peaks": "cxi",
        "geometry": f"{paths.base}/work_dir/geom/r0003.geom", "zmq_input": None,
        "nthreads": 120, "indexing": "xgandalf",
        "cell_file": f"{paths.base}/work_dir/lysozyme.cell", "tolerance": "5,5,5,1.5",
        "multi": True, "profile": False, "no_revalidate": True, "integration": "rings-nocen",
        "int_radius": "4,5,7", "push_res": "infinity", "xgandalf_fast_execution": False,
        "no_non_hits_in_stream": False, "harvest_file": None,
    }


def _concatenate_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {"in_file": f"{paths.base}/work_dir", "tag": "lyso",
            "out_file": f"{paths.base}/lyso.stream"}


def _merge_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/partialator",
        "in_file": f"{paths.base}/lyso.stream", "out_file": f"{paths.base}/lyso.hkl",
        "symmetry": "4/mmm", "niter": 2, "model": "xsphere", "nthreads": 64,
        "min_measurements": 2, "max_rel_B": 100.0, "push_res": None, "no_logs": False,
    }


def _compare_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {
        "executable": "/sdf/group/lcls/ds/tools/crystfel/0.10.2/bin/compare_hkl",
        "in_files": f"{paths.base}/lyso.hkl1 {paths.base}/lyso.hkl2",
        "symmetry": "4/mmm", "cell_file": f"{paths.base}/work_dir/lysozyme.cell",
        "fom": "CCstar", "nshells": 10, "shell_file": f"{paths.base}/lyso_CCstar_n10.dat",
        "ignore_negs": False, "zero_negs": False, "sigma_cutoff": None, "highres": 1.8,
    }


def _scan_parameters(paths: FacilityPaths, run: int) -> dict[str, Any]:
    return {"smd_path": paths.smd_file(run), "xss_detname": "jungfrau4M", "ipm_var": "ipm_dg2",
            "scan_var": ["jet_x"], "thresholds": {"min_Iscat": 10.0, "min_ipm": 1000.0}}


PARAMETERS: dict[str, Callable[[FacilityPaths, int], dict[str, Any]]] = {
    SUBMIT_SMD: _submit_smd_parameters, GEOMETRY: _geometry_parameters,
    FIND_PEAKS: _find_peaks_parameters, INDEX: _index_parameters,
    CONCATENATE: _concatenate_parameters, MERGE: _merge_parameters,
    COMPARE: _compare_parameters, SCAN: _scan_parameters,
}


# -- completed results and their pages ------------------------------------------


def _submit_smd_result(given: TaskInputs, run: int) -> Outcome:
    if run not in DARK_RUNS:
        return Outcome("", given.paths.smd_file(run))
    name = f"calib/jungfrau4M/r{run:04d}"
    pedestal = 3000 + given.rng.normal(0, 40, (48, 48)).round()
    figure = hv.Image(pedestal, bounds=(0, 0, 48, 48), kdims=["column", "row"], vdims=["ADU"])
    figure = figure.opts(cmap="gray", colorbar=True, width=420, height=360,
                         title=f"jungfrau4M pedestal, gain stage 0 (dark run {run})")
    summary = f"Dark run: pedestals and noise for jungfrau4M;{given.paths.page_path(name)}"
    return Outcome(summary, given.paths.smd_file(run), (ElogSummaryPlots(display_name=name,
                                                                    figures=figure),))


def _geometry_result(given: TaskInputs, run: int) -> Outcome:
    name = f"Geometry_Fit/r{run:04d}"
    distance = round(float(given.rng.normal(120.0, 0.8)), 1)
    center = np.round(given.rng.normal(64.0, 1.5, 2), 1)
    summary = (f"Detector distance (mm): {distance};Detector center (pixels): "
               f"({center[0]}, {center[1]});Detector edge resolution (A): "
               f"{2.4 * 120.0 / distance:.3f};{given.paths.page_path(name)}")
    figure = _geometry_figure(given.rng, distance, center)
    return Outcome(summary, "", (ElogSummaryPlots(display_name=name, figures=figure),))


def _find_peaks_result(given: TaskInputs, run: int) -> Outcome:
    events = int(given.rng.integers(55_000, 75_000))
    hit_rate = float(np.clip(given.rng.normal(0.3, 0.06), 0.05, 0.6))
    name = f"r{run}/powders"  # LUTE's FindPeaks does not zero-pad this tab
    summary = (f"Number of events processed: {events};Number of hits found: "
               f"{int(events * hit_rate)};Fractional hit rate: {hit_rate:.2f};"
               f"{given.paths.page_path(name)}")
    figures = _powders_tabs(given.rng, run, events, hit_rate)
    return Outcome(summary, "", (ElogSummaryPlots(display_name=name, figures=figures),),
                   hit_rate=hit_rate)


def _index_result(given: TaskInputs, run: int) -> Outcome:
    rate = float(np.clip(given.rng.normal(0.45, 0.08), 0.05, 0.8))
    summary = (f"Number of lattices indexed: {int(rate * given.rng.integers(300, 400))};"
               f"Indexing rate: {rate:.2f}")
    if run % INDEX_PAGE_EVERY:
        return Outcome(summary, given.paths.stream_file(run), indexing_rate=rate)
    name = f"indexing/r{run:04d}"
    figures = _rates_by_run(given.hit_rates, {**given.indexing_rates, run: rate})
    page = ElogSummaryPlots(display_name=name, figures=figures)
    return Outcome(f"{summary};{given.paths.page_path(name)}", given.paths.stream_file(run),
                   (page,), indexing_rate=rate)


def _concatenate_result(given: TaskInputs, run: int) -> Outcome:
    return Outcome("PENDING", "")  # the Task never sets a summary: LUTE keeps "PENDING"


def _merge_result(given: TaskInputs, run: int) -> Outcome:
    return Outcome("", f"{given.paths.base}/lyso.hkl")


def _compare_result(given: TaskInputs, run: int) -> Outcome:
    name = f"r{run}/CCstar"
    shells = np.linspace(0.05, 0.55, 10)  # 1/d, 1/Angstrom
    ccstar = np.clip(1.0 - 0.9 * shells**2 - given.rng.normal(0, 0.01, 10), 0, 1)
    stats = np.array([ccstar[0], ccstar.mean(), 4916.0 + run, 10.58, ccstar[-1], 1.145])
    summary = f"CCstar: {np.array2string(stats, precision=6)};{given.paths.page_path(name)}"
    curve = hv.Curve((shells, ccstar), "1/d (1/A)", "CC*") * hv.Scatter((shells, ccstar))
    figure = curve.opts(hv.opts.Curve(width=480, height=320, title=f"CC* by shell, runs 1-{run}"),
                        hv.opts.Scatter(size=6))
    return Outcome(summary, f"{given.paths.base}/lyso_CCstar_n10.dat",
                   (ElogSummaryPlots(display_name=name, figures=figure),))


def _scan_result(given: TaskInputs, run: int) -> Outcome:
    name = f"scans/{run:04d} jet x scan"
    positions = np.linspace(-0.5, 0.5, 21)
    best = float(given.rng.normal(0.1, 0.05))
    signal = np.exp(-((positions - best) / 0.15) ** 2) + given.rng.normal(0, 0.03, 21)
    summary = (f"Scan variable: jet_x;Points: 21;Best jet_x (mm): {best:.3f};"
               f"{given.paths.page_path(name)}")
    page = ElogSummaryPlots(display_name=name, figures=_scan_figure(positions, signal, run))
    return Outcome(summary, signal.astype(np.float64).tobytes(), (page,))


COMPLETED: dict[str, Callable[[TaskInputs, int], Outcome]] = {
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
