"""Reliability fixtures: result directories LUTE (or a broken writer) could leave, and their hashes.

The UI helpers come from ``tests/ui/conftest.py`` (the real ``lute-dashboard
serve`` in a subprocess) and are imported, not copied.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard.testing import Server, dashboard_server, free_port
from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task
from tests.ui.conftest import READY, open_dashboard

__all__ = ["READY", "Server", "dashboard_server", "free_port", "open_dashboard"]

REPO = Path(__file__).resolve().parents[2]
EXPERIMENT = "mfxp1001123"


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
    report = summary / display_name / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, bytes):
        report.write_bytes(body)
    else:
        report.write_text(body)
    return report


def tree_state(*roots: Path) -> dict[str, tuple]:
    """Every entry below ``roots``: kind, size, mtime_ns and (for files) a sha256.

    Sparse giants are hashed by their stat only (their size and mtime_ns would
    change with any write); everything else byte by byte.
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
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    state[path] = ("link", os.readlink(path), info.st_mtime_ns)
                    continue
                digest = ""
                if stat.S_ISREG(info.st_mode) and info.st_size <= 256 * 2**20:
                    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                state[path] = ("file", info.st_size, info.st_mtime_ns, digest, info.st_mode)
    return state


def inspect(*args: str | Path) -> tuple[int, str]:
    """``python -m dashboard.cli inspect ARGS``: exit code and everything printed."""
    proc = subprocess.run([sys.executable, "-m", "dashboard.cli", "inspect", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    return proc.returncode, proc.stdout + proc.stderr


def problems_of(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("problem:")]


@pytest.fixture
def experiment_dir(tmp_path: Path) -> Path:
    return build_experiment(tmp_path)


@pytest.fixture
def serve() -> Callable:
    """``with serve(path, ..., extra=(...)) as url:`` — the real CLI server in a subprocess."""
    return dashboard_server


@pytest.fixture
def unchanged():
    """``with unchanged(dir, ...):`` — fails if anything below the folders was written."""

    @contextmanager
    def check(*roots: Path):
        before = tree_state(*roots)
        yield
        after = tree_state(*roots)
        changed = sorted(set(before) ^ set(after)) + sorted(
            k for k in set(before) & set(after) if before[k] != after[k])
        assert changed == [], f"the dashboard wrote to a result directory: {changed[:10]}"

    return check
