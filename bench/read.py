"""How much cheaper a refresh is than the first read of a large lute.db.

    python bench/read.py

Builds, in a temporary folder, a ``lute.db`` of 20,000 Task executions of 8
Tasks in each of LUTE's layouts: v1 (one table per Task; ``record_task``
creates the tables, the rest is bulk-inserted with the same columns) and v2
(normalized; every execution written by our v2 writer, parameters and
environment rows included).  Then measures, per layout, as the median of
several repeats with a fresh reader each time:

- the first full read: ``Experiment.refresh()`` of a new Experiment, and
  ``LuteDbReader.refresh()`` alone;
- the refresh after 10 new rows were added (add rows, time the refresh, repeat).

Prints both times and their ratio, the layouts side by side; exits non-zero when
the first read is less than 50 times slower than a refresh, i.e. when
refreshing stopped being incremental.  ``--layout v2`` measures one layout.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lute_model.discovery import ExperimentSource
from lute_model.experiment import Experiment
from lute_model.sources.lutedb import LuteDbReader
from lute_model.status import TaskStatus
from lute_writers.lute_schema import Execution, flatten, record_task
from lute_writers.lute_schema_v2 import insert_execution

EXPERIMENT = "mfxl1013621"
SUMMARY_ROOT = f"/sdf/data/lcls/ds/mfx/{EXPERIMENT}/stats/summary"
MIN_RATIO = 50.0

#: Task -> its parameters, roughly the size of the real ones.
TASKS: dict[str, dict] = {
    "SubmitSMD": {"producer": "/sdf/group/lcls/ds/tools/smd.py", "detnames": ["jungfrau4M"],
                  "directory": "/sdf/data/lcls/ds/mfx/x/hdf5/smalldata", "epicsAll": False},
    "FindPeaksPyAlgos": {"outdir": "/sdf/data/lcls/ds/mfx/x/scratch", "n_events": 0,
                         "det_name": "jungfrau4M", "amax_thr": 50.0, "son_min": 8.0,
                         "min_peaks": 15, "max_peaks": 2048, "mask_file": None},
    "IndexCrystFEL": {"in_file": "/sdf/x.lst", "out_file": "/sdf/x.stream", "geometry": "/g",
                      "indexing": "xgandalf", "int_radius": "4,5,7", "multi": True,
                      "tolerance": "5,5,5,1.5", "min_peaks": 15},
    "ConcatenateStreamFiles": {"in_file": "/sdf/x", "tag": "thermo", "out_file": "/sdf/y"},
    "MergePartialator": {"in_file": "/sdf/x.stream", "model": "unity", "niter": 1,
                         "symmetry": "422", "out_file": "/sdf/x.hkl", "min_res": None},
    "CompareHKL": {"in_files": "/sdf/x.hkl1 /sdf/x.hkl2", "fom": "CCstar", "nshells": 10,
                   "symmetry": "422", "cell_file": "/sdf/x.cell"},
    "ManipulateHKL": {"in_file": "/sdf/x.hkl", "out_file": "/sdf/x.mtz", "output_format": "mtz"},
    "DimpleSolve": {"in_file": "/sdf/x.mtz", "pdb": "/sdf/x.pdb", "out_dir": "/sdf/dimple",
                    "slow": False, "weight": "auto"},
}
STATUSES = [TaskStatus.COMPLETED] * 8 + [TaskStatus.FAILED, TaskStatus.TIMEDOUT]


def _summary(task: str, run: int) -> str:
    return (f"Number of hits found: {run * 7 % 1000};Fractional hit rate: 0.{run % 97:02d};"
            f"{SUMMARY_ROOT}/r{run:04d}/{task}/report.html")


def _task_row(task: str, run: int, gen_id: int, status: TaskStatus) -> list:
    flat = flatten(TASKS[task])
    return [gen_id, 1, *flat.values(), status.name, _summary(task, run), "",
            "schema1;schema2", 1 if status is TaskStatus.COMPLETED else 0]


def _insert_sql(task: str) -> str:
    names = ["gen_cfg_id", "exec_cfg_id", *flatten(TASKS[task]), "result.task_status",
             "result.summary", "result.payload", "result.impl_schemas", "valid_flag"]
    quoted = ", ".join('"' + name + '"' for name in names)
    return f"INSERT INTO {task} ({quoted}) VALUES ({', '.join('?' for _ in names)})"


def chains(first_run: int, count: int):
    """``count`` (run, Task, status) of whole chains of the 8 Tasks from ``first_run``, then
    part of one; each run once, before its Tasks, as ``(run, None, None)``."""
    tasks, added, run = list(TASKS), 0, first_run
    while added < count:
        yield run, None, None
        for task in tasks[: count - added]:
            yield run, task, STATUSES[(run + len(task)) % len(STATUSES)]
            added += 1
        run += 1


class BenchDb:
    """A growing lute.db in LUTE's v1 layout: rows added run by run, each run a chain."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_run = 1
        for task in TASKS:  # LUTE's own path: creates gen_cfg, exec_cfg and the Task tables
            record_task(str(path), task=task, run="0", status=TaskStatus.COMPLETED,
                        summary=_summary(task, 0), parameters=TASKS[task], experiment=EXPERIMENT,
                        env={"LUTE_CONFIGPATH": "/sdf/x.yaml", "SLURM_JOB_ID": "1"})

    def add_rows(self, count: int) -> None:
        """Add ``count`` Task rows in one transaction (bulk, with the same columns)."""
        by_task: dict[str, list[list]] = {task: [] for task in TASKS}
        con = sqlite3.connect(self.path)
        try:
            with con:
                for run, task, status in chains(self.next_run, count):
                    if task is None:
                        gen_id = con.execute(
                            "INSERT INTO gen_cfg (title, experiment, run, date, lute_version, "
                            "task_timeout) VALUES (?, ?, ?, ?, ?, ?)",
                            ("LUTE Task Configuration", EXPERIMENT, str(run), "2024/10/09", 0.1,
                             600)).lastrowid
                        self.next_run = run + 1
                    else:
                        by_task[task].append(_task_row(task, run, gen_id, status))
                for task, rows in by_task.items():
                    if rows:
                        con.executemany(_insert_sql(task), rows)
        finally:
            con.close()


class BenchDbV2:
    """The same runs and Tasks as :class:`BenchDb`, stored in LUTE's v2 layout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_run = 0

    def add_rows(self, count: int) -> None:
        """Add ``count`` executions, each through our v2 writer, in one transaction."""
        con = sqlite3.connect(self.path)
        try:
            with con:
                for run, task, status in chains(self.next_run, count):
                    self.next_run = run + 1
                    if task is not None:
                        insert_execution(con, Execution(
                            task=task, run=str(run), status=status, summary=_summary(task, run),
                            impl_schemas="HDF5", parameters=TASKS[task], experiment=EXPERIMENT,
                            date="2024/10/09", env={"LUTE_CONFIGPATH": "/sdf/x.yaml",
                                                    "SLURM_JOB_ID": str(run)}))
        finally:
            con.close()


LAYOUTS = {"v1": BenchDb, "v2": BenchDbV2}


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(layout: str, rows: int, repeats: int) -> dict[str, tuple[float, float]]:
    """First read and refresh after 10 new executions, median of ``repeats``, per reader."""
    with tempfile.TemporaryDirectory(prefix="lute-bench-") as folder:
        db_path = Path(folder) / EXPERIMENT / "work_dir" / "lute.db"
        db_path.parent.mkdir(parents=True)
        started = time.perf_counter()
        db = LAYOUTS[layout](db_path)
        db.add_rows(rows - (len(TASKS) if layout == "v1" else 0))
        print(f"{layout}: built {db_path.stat().st_size / 2**20:.1f} MB lute.db with {rows} "
              f"executions of {len(TASKS)} Tasks in {time.perf_counter() - started:.1f} s")
        source = ExperimentSource(EXPERIMENT, db_path.parents[1], [db_path], None)

        first_reader = [_timed(lambda: LuteDbReader(db_path).refresh()) for _ in range(repeats)]
        first_experiment = [_timed(lambda: Experiment(source).refresh())
                            for _ in range(repeats)]

        reader = LuteDbReader(db_path)
        assert len(reader.refresh().rows) == rows
        experiment = Experiment(source)
        experiment.refresh()
        assert len(experiment.executions) == rows
        refresh_reader, refresh_experiment = [], []
        for _ in range(repeats):
            db.add_rows(10)
            started = time.perf_counter()
            delta = reader.refresh()
            refresh_reader.append(time.perf_counter() - started)
            assert len(delta.rows) == 10, len(delta.rows)
            started = time.perf_counter()
            change = experiment.refresh()
            refresh_experiment.append(time.perf_counter() - started)
            assert len(change.rows) == 10, len(change.rows)
    return {
        "LuteDbReader.refresh": (statistics.median(first_reader),
                                 statistics.median(refresh_reader)),
        "Experiment.refresh": (statistics.median(first_experiment),
                               statistics.median(refresh_experiment)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--layout", choices=[*LAYOUTS, "both"], default="both")
    args = parser.parse_args(argv)
    layouts = list(LAYOUTS) if args.layout == "both" else [args.layout]
    results = {layout: measure(layout, args.rows, args.repeats) for layout in layouts}
    failed = False
    for layout, measured in results.items():
        for name, (first, refresh) in measured.items():
            ratio = first / refresh
            failed |= ratio < MIN_RATIO
            print(f"{layout} {name:22} first read {first * 1000:8.1f} ms   refresh after 10 new "
                  f"executions {refresh * 1000:7.2f} ms   ratio {ratio:6.0f}  "
                  f"(median of {args.repeats})")
    if failed:
        print(f"FAIL: a refresh must be at least {MIN_RATIO:.0f} times cheaper than the first read")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
