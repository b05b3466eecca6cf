"""A real dashboard server and large experiments, for the tests and the benchmarks.

Tests and benchmarks drive what a user runs: ``lute-dashboard serve`` in its
own process, on a free localhost port, until it answers ``/liveness``.  Its
output goes to a file (tornado logs every 404; a pipe nobody reads would fill
and hang the server), shown when something fails.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lute_model.status import TaskStatus
from lute_writers.lute_schema import record_task

REPO = Path(__file__).resolve().parents[1]

#: The grid's cells as the browser holds them (see ``views/status_grid.py``).
GRID_CELLS_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  const data = fig.renderers[0].data_source.data;
  return Array.from(data.task, (task, i) => ({task, run: data.run[i], y: data.y[i],
                                              status: data.status[i], color: data.color[i]}));
}"""

#: Page coordinates of the middle of one cell ([task, y]), from the figure's scales.
GRID_CELL_CENTER_JS = """([task, y]) => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  const view = Bokeh.index.find_one(fig);
  const box = view.el.getBoundingClientRect();
  return {x: box.left + view.frame.x_scale.compute(task),
          y: box.top + view.frame.y_scale.compute(y)};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server(str):
    """The base URL of a running server; ``.log()`` is everything it printed so far."""

    log_path: Path
    port: int
    pid: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def dashboard_server(*paths: Path | str, extra: tuple[str, ...] = ()) -> Iterator[Server]:
    """``lute-dashboard serve PATHS EXTRA`` until it answers; yield its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", *map(str, paths), "--port", str(port),
           *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.NamedTemporaryFile("w+", prefix="lute-serve-", suffix=".log") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        url = Server(f"http://127.0.0.1:{port}")
        url.log_path, url.port, url.pid = Path(log.name), port, proc.pid
        try:
            _wait_until_live(proc, url)
            yield url
        except BaseException:
            print(f"--- server log ---\n{url.log()[-5000:]}")  # the first thing to read
            raise
        finally:
            stop_process(proc)


def stop_process(proc: subprocess.Popen | None) -> None:
    """Ask a child process to end, and make it if it will not (a server with a watcher
    thread may ignore SIGTERM)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_live(proc: subprocess.Popen, url: Server, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {url.log()}")
        try:
            with urllib.request.urlopen(f"{url}/liveness", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in {limit:g} s") from None
            time.sleep(0.1)


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


@contextmanager
def threaded_panel_server(panels: Any = None, **kwargs: Any) -> Iterator[int]:
    """A bare Panel server (no dashboard) in its own thread and event loop; yields its port.

    For tests of single routes or views: the socket is bound before the port is
    handed out, so no waiting is needed.
    """
    import panel as pn
    from panel.io.server import get_server
    from tornado.ioloop import IOLoop

    started: queue.Queue = queue.Queue()

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        server = get_server(panels or {"app": lambda: pn.pane.Markdown("dashboard")}, port=0,
                            address="127.0.0.1", websocket_origin="*", loop=loop, **kwargs)
        server.start()
        started.put((server, loop))
        loop.start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    server, loop = started.get(timeout=60)
    try:
        yield server.port
    finally:
        loop.add_callback(server.stop)
        loop.add_callback(loop.stop)
        thread.join(timeout=10)
