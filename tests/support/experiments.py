"""Result directories as LUTE leaves them, written by the tests, and copies of the examples.

``tests/data`` holds experiments that LUTE's own code wrote (read-only on disk);
the rest are written here with LUTE's schema (``lute_writers.lute_schema``), from
three runs to 10,000 runs × 20 Tasks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from lute_model.discovery import discover
from lute_model.experiment import Experiment
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task
from tests.support.servers import REPO

DATA = REPO / "tests" / "data"
#: The examples: cxil1005322 has hit and indexing rates, mfxp1001123 every status.
CXI, MFX = "cxil1005322", "mfxp1001123"
EXPERIMENT = MFX


def example_versions() -> list[tuple[str, str]]:
    """The (package, version) pairs of bokeh and panel that the examples' reports load.

    They were written by the bokeh/panel of their day, as the facility's are; the
    dashboard shows them offline with that version's JavaScript, not the installed one's.
    """
    from dashboard.cdn_rewrite import scan_versions

    named: set[tuple[str, str]] = set()
    for report in DATA.rglob("report.html"):
        with open(report, "rb") as file:
            named.update(scan_versions(file))
    return sorted(named)


def copy_of(tmp_path: Path, *names: str) -> Path:
    """A writable copy of the named examples in one folder (the originals are read-only)."""
    root = tmp_path / "experiments"
    for name in names:
        shutil.copytree(DATA / name, root / name)
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for file in files:
            os.chmod(Path(folder) / file, 0o644)
    return root


def read_experiment(folder: Path) -> Experiment:
    """What the model reads from ``folder``: the expected side of the assertions."""
    (source,), _ = discover([folder])
    experiment = Experiment(source)
    experiment.refresh()
    return experiment


def build_experiment(root: Path, name: str = EXPERIMENT, runs: int = 3,
                     pages: dict[str, str] | None = None) -> Path:
    """An experiment folder as LUTE leaves it: ``work_dir/lute.db`` and ``stats/summary``."""
    folder = root / name
    (folder / "work_dir").mkdir(parents=True, exist_ok=True)
    summary = folder / "stats" / "summary"
    summary.mkdir(parents=True, exist_ok=True)
    db = folder / "work_dir" / "lute.db"
    facility = f"/sdf/data/lcls/ds/{name[:3]}/{name}/stats/summary"
    for run in range(1, runs + 1):
        record_task(str(db), task="FindPeaksPyAlgos", run=str(run), status=TaskStatus.COMPLETED,
                    summary=f"{facility}/r{run:04d}/powders/report.html", experiment=name,
                    parameters={"npeaks": 10 * run})
        record_task(str(db), task="IndexCrystFEL", run=str(run),
                    status=TaskStatus.FAILED if run == 2 else TaskStatus.COMPLETED,
                    summary="indexed: 42;rate: 0.5", experiment=name)
    for run in range(1, runs + 1):
        add_page(summary, f"r{run:04d}/powders", f"<p>powders of run {run}</p>")
    for display_name, body in (pages or {}).items():
        add_page(summary, display_name, body)
    return folder


def add_page(summary: Path, display_name: str, body: str | bytes) -> Path:
    """A summary page ``display_name/report.html`` below ``summary``."""
    report = summary / display_name / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, bytes):
        report.write_bytes(body)
    else:
        report.write_text(body)
    return report


def write_big_experiment(root: Path, runs: int, tasks: int) -> None:
    """``runs`` × ``tasks`` executions with LUTE's schema, bulk-inserted (about a second)."""
    db = root / "work_dir" / "lute.db"
    db.parent.mkdir(parents=True)
    names = [f"Task{index:02d}" for index in range(tasks)]
    for name in names:
        record_task(str(db), task=name, run="0", status=TaskStatus.COMPLETED,
                    timestamp="2026-01-01 00:00:00")
    statuses = [s.name for s in TaskStatus]
    con = sqlite3.connect(db)
    with con:
        con.executemany("INSERT INTO gen_cfg (id, title, experiment, run) VALUES (?, ?, ?, ?)",
                        [(run + 1000, "LUTE Task Configuration", "", str(run))
                         for run in range(1, runs)])
        for position, name in enumerate(names):
            con.executemany(
                f'INSERT INTO {name} (timestamp, gen_cfg_id, exec_cfg_id, "result.task_status", '
                '"result.summary", valid_flag) VALUES (?, ?, 1, ?, ?, 1)',
                [(f"2026-01-01 {run // 3600 % 24:02d}:{run // 60 % 60:02d}:{position:02d}",
                  run + 1000, statuses[(run + position) % len(statuses)], f"run {run} done")
                 for run in range(1, runs)])
    con.close()


def write_hutch(root: Path, ages: dict[str, float]) -> None:
    """A hutch's folder: one small experiment (3 runs × 3 Tasks) per name in ``ages``, its
    result files last written ``ages[name]`` seconds ago.  Copies of one experiment, so
    that hundreds take seconds."""
    seed = root.parent / f".{root.name}-seed"
    write_big_experiment(seed, 3, 3)
    now = time.time()
    for name, age in ages.items():
        folder = root / name
        shutil.copytree(seed, folder)
        for path in (folder / "work_dir", *(folder / "work_dir").iterdir()):
            os.utime(path, (now - age, now - age))
    shutil.rmtree(seed)


def tree_state(*roots: Path) -> dict[str, tuple]:
    """Every entry below ``roots``: kind, size, mtime_ns and (for files) a sha256.

    What the ``unchanged`` fixture compares: the dashboard must never write to a
    result directory.  Sparse giants are hashed by their stat only (their size and
    mtime_ns would change with any write); everything else byte by byte.
    """
    state: dict[str, tuple] = {}
    for root in roots:
        if not os.path.isdir(root):
            info = os.stat(root)
            state[str(root)] = ("file", info.st_size, info.st_mtime_ns,
                                hashlib.sha256(Path(root).read_bytes()).hexdigest())
            continue
        for folder, dirs, files in os.walk(root):
            info = os.lstat(folder)
            state[folder] = ("dir", info.st_mtime_ns, tuple(sorted(dirs + files)))
            for name in files:
                state[os.path.join(folder, name)] = _file_state(os.path.join(folder, name))
    return state


def _file_state(path: str) -> tuple:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path), info.st_mtime_ns)
    digest = ""
    if stat.S_ISREG(info.st_mode) and info.st_size <= 256 * 2**20:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return ("file", info.st_size, info.st_mtime_ns, digest, info.st_mode)


def inspect(*args: str | Path) -> tuple[int, str]:
    """``python -m dashboard.cli inspect ARGS``: exit code and everything printed."""
    proc = subprocess.run([sys.executable, "-m", "dashboard.cli", "inspect", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    return proc.returncode, proc.stdout + proc.stderr


def problems_of(output: str) -> list[str]:
    """The ``problem:`` lines of what ``inspect`` printed."""
    return [line.strip() for line in output.splitlines() if line.strip().startswith("problem:")]
