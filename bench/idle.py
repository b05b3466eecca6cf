"""What an idle poll costs: file-system calls and CPU, for small, huge and many experiments.

    python bench/idle.py [--polls 20] [--server-seconds 20]

A poll must cost what changed, never the size of the experiment: the result
folders sit on the facility's shared file server.  Three cases, built in a
temporary folder:

- ``1 run``: one run of 20 Tasks, one summary page;
- ``1,000 × 20`` and ``10,000 × 20``: 10,000 runs × 20 Tasks (200,000 lute.db rows) and a summary
  page per run (20,001 folders under ``stats/summary``);
- ``hutch``: a folder of 100 small experiments (3 runs each; one current, 99
  whose pages are weeks old) and 200 folders that hold no LUTE results.

For each, in this process: the server's refresh loop (``Registry``) reads the
experiments once, then makes ``--polls`` rounds with nothing changing,
counting every file-system call (``os.stat``, ``os.lstat``, ``os.scandir``,
``open``, ``os.open``, SQLite connections) and the CPU time.
Then a real ``lute-dashboard serve`` of the same folder, with no browser open,
is left idle for ``--server-seconds`` and its CPU use read from ``/proc``.
Prints one line per case; exits non-zero when the idle server uses more than
2 % of a core for one experiment or 5 % for the hutch, or when the calls per
poll of ``10,000 × 20`` exceed those of ``1,000 × 20`` by more than 10 %: past a
few dozen folders, the cost of a poll must not grow with the experiment.
"""

from __future__ import annotations

import argparse
import builtins
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from _common import DashboardServer, cpu_seconds, machine_line, rss_mb

from dashboard.registry import Registry, ServeConfig
from lute_model.status import TaskStatus
from lute_writers.lute_schema import flatten, record_task

TASKS = [f"Task{i:02d}" for i in range(20)]
PARAMETERS = {"in_file": "/sdf/x.h5", "n_events": 0, "threshold": 5.0, "det": "jungfrau4M"}
POLL = 0.5
#: Idle server CPU allowed, % of one core.
LIMITS = {"1 run": 2.0, "1,000 × 20": 2.0, "10,000 × 20": 2.0, "hutch": 5.0}
COUNTED = (("os", "stat"), ("os", "lstat"), ("os", "scandir"), ("os", "open"),
           ("builtins", "open"), ("sqlite3", "connect"))


def build_experiment(root: Path, runs: int, age: float = 60) -> Path:
    """``runs`` runs × 20 Tasks in LUTE's v1 layout (bulk-inserted) and a page per run,
    its summary folders last changed ``age`` seconds ago."""
    db = root / "work_dir" / "lute.db"
    db.parent.mkdir(parents=True)
    for task in TASKS:  # LUTE's own path creates the tables
        record_task(str(db), task=task, run="0", status=TaskStatus.COMPLETED,
                    parameters=PARAMETERS, experiment=root.name)
    names = ["gen_cfg_id", "exec_cfg_id", *flatten(PARAMETERS), "result.task_status",
             "result.summary", "result.payload", "valid_flag"]
    con = sqlite3.connect(db)
    with con:
        for run in range(1, runs + 1):
            gen = con.execute("INSERT INTO gen_cfg (title, experiment, run, date, lute_version, "
                              "task_timeout) VALUES ('t', ?, ?, '2025/01/01', 0.1, 600)",
                              (root.name, str(run))).lastrowid
            page = (f"/sdf/data/lcls/ds/{root.name[:3]}/{root.name}/stats/summary/"
                    f"r{run:05d}/powders/report.html")
            for task in TASKS:
                row = [gen, 1, *flatten(PARAMETERS).values(), "COMPLETED",
                       f"Hit rate: 0.1;{page}" if task == TASKS[0] else "done", "", 1]
                con.execute(f"INSERT INTO {task} ({', '.join(repr(n) for n in names)}) "
                            f"VALUES ({', '.join('?' for _ in names)})", row)
            folder = root / "stats" / "summary" / f"r{run:05d}" / "powders"
            folder.mkdir(parents=True)
            (folder / "report.html").write_bytes(b"<html><body>powder</body></html>")
    con.close()
    old = time.time() - age  # at least older than "too recent to trust"
    for folder, _dirs, _files in os.walk(root / "stats"):
        os.utime(folder, (old, old))
    return root


def build_hutch(root: Path) -> Path:
    """A hutch's folder: one experiment running (changed a minute ago), 99 of past weeks."""
    for i in range(100):
        build_experiment(root / f"mfxl10{i:04d}", runs=3, age=60 if i == 0 else 14 * 86400)
    for i in range(200):
        (root / f"scratch{i:03d}" / "notes").mkdir(parents=True)
    return root


@contextmanager
def counting(calls: Counter):
    """Count the file-system calls made in this process while inside."""
    modules = {"os": os, "builtins": builtins, "sqlite3": sqlite3}
    saved: list[tuple[object, str, Callable]] = []
    for module_name, name in COUNTED:
        module = modules[module_name]
        real = getattr(module, name)

        def counted(*args, _real=real, _key=f"{module_name}.{name}", **kwargs):
            calls[_key] += 1
            return _real(*args, **kwargs)

        saved.append((module, name, real))
        setattr(module, name, counted)
    try:
        yield calls
    finally:
        for module, name, real in saved:
            setattr(module, name, real)


def measure_polls(path: Path, polls: int) -> dict:
    """The server's refresh loop, in this process: its first read, then ``polls`` idle
    rounds (``Registry.tick``, as the refresh thread makes them every ``--poll``)."""
    registry = Registry(ServeConfig(paths=(str(path),), inotify=False))
    started = time.perf_counter()
    registry.load()
    cold = time.perf_counter() - started
    registry.tick()  # the first round after a read may re-list racy folders
    calls: Counter = Counter()
    cpu = time.process_time()
    with counting(calls):
        for _ in range(polls):
            registry.tick()
    cpu = time.process_time() - cpu
    return {"experiments": len(registry.experiments), "cold": cold,
            "calls": sum(calls.values()) / polls,
            "by_kind": {k: v / polls for k, v in sorted(calls.items())},
            "cpu_ms": cpu / polls * 1000}


def measure_server(path: Path, seconds: float, log: Path) -> dict:
    """A real server of ``path``, no session: CPU while idle, RSS."""
    with DashboardServer(path, extra=("--poll", str(POLL)), log=log) as server:
        # The first read keeps a core busy; it is over when a 2 s window uses under 0.2 s.
        deadline = time.perf_counter() + 600
        last = cpu_seconds(server.pid)
        while time.perf_counter() < deadline:
            time.sleep(2)
            now = cpu_seconds(server.pid)
            if now - last < 0.2:
                break
            last = now
        before, t0 = cpu_seconds(server.pid), time.perf_counter()
        time.sleep(seconds)
        cpu = (cpu_seconds(server.pid) - before) / (time.perf_counter() - t0)
        return {"cpu_pct": cpu * 100, "rss": rss_mb(server.pid)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--server-seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=10_000, help="runs of the large case")
    args = parser.parse_args(argv)
    print(machine_line())
    failed = False
    results = {}
    with tempfile.TemporaryDirectory(prefix="lute-idle-") as folder:
        tmp = Path(folder)
        cases = {
            "1 run": lambda: build_experiment(tmp / "one" / "mfxl1000001", runs=1),
            "1,000 × 20": lambda: build_experiment(tmp / "mid" / "mfxl1000003", runs=1_000),
            "10,000 × 20": lambda: build_experiment(tmp / "big" / "mfxl1000002", args.runs),
            "hutch": lambda: build_hutch(tmp / "hutch"),
        }
        for name, build in cases.items():
            started = time.perf_counter()
            path = build()
            built = time.perf_counter() - started
            polls = measure_polls(path, args.polls)
            server = measure_server(path, args.server_seconds, tmp / f"{len(results)}.log")
            results[name] = polls
            over = server["cpu_pct"] > LIMITS[name]
            failed |= over
            print(f"{name:12} built {built:5.1f} s  read {polls['cold']:6.1f} s  "
                  f"{polls['experiments']:3} exp.  per idle poll: {polls['calls']:7.1f} fs calls "
                  f"{polls['cpu_ms']:7.2f} ms CPU  | idle server {server['cpu_pct']:5.2f} % of a "
                  f"core (limit {LIMITS[name]:g} %), RSS {server['rss']:.0f} MB"
                  f"{'  FAIL' if over else ''}")
            print(f"{'':12} calls per poll by kind: {polls['by_kind']}")
    growth = results["10,000 × 20"]["calls"] / results["1,000 × 20"]["calls"]
    print(f"calls per idle poll, 10,000 × 20 / 1,000 × 20: {growth:.2f}× (limit 1.1×)")
    failed |= growth > 1.1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
