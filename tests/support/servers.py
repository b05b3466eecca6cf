"""Servers for the tests and the benchmarks, on free localhost ports.

Most tests drive what a user runs: ``lute-dashboard serve`` in its own process
(:class:`DashboardServer`, :func:`dashboard_server`), ready once it answers
``/liveness``.  Its output goes to a file (tornado logs every 404; a pipe nobody
reads would fill and hang the server), shown when something fails.  Tests of one
view or route serve it from a thread of the test process (:func:`panel_server`),
so they can reach into the sessions.
"""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server(str):
    """The base URL of a running server, usable as a string; ``.log()`` is what it printed."""

    log_path: Path
    port: int
    pid: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class ServerProcess:
    """``python -m ARGV(port)`` in its own process, from start() until stop().

    ``argv`` is given the port because where ``--port`` goes depends on the server
    (``panel serve ... --args`` hands everything after ``--args`` to the app).
    ``cwd`` may be another checkout, for a before/after in one benchmark run.
    """

    def __init__(self, argv: Callable[[int], list[str]], log: Path | None = None,
                 cwd: Path = REPO) -> None:
        self.port = free_port()
        self.cmd = [sys.executable, "-m", *argv(self.port)]
        self.cwd = cwd
        self._tmp = None if log else tempfile.TemporaryDirectory(prefix="lute-serve-")
        self.log_path = log or Path(self._tmp.name) / "server.log"
        self.url = Server(f"http://127.0.0.1:{self.port}")
        self.url.log_path, self.url.port = self.log_path, self.port
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def log(self) -> str:
        return self.url.log()

    def start(self, timeout: float = 90) -> ServerProcess:
        """Start the process and return once ``/liveness`` answers."""
        with open(self.log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.url.pid = self.proc.pid
        try:
            wait_until_live(self.proc, self.url, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, exc_type: type | None, *_exc: object) -> None:
        if exc_type is not None:
            print(f"--- server log ---\n{self.log()[-5000:]}")  # the first thing to read
        self.stop()


class DashboardServer(ServerProcess):
    """``lute-dashboard serve PATHS --port N EXTRA``, as a user starts it."""

    def __init__(self, *paths: Path | str, extra: tuple[str, ...] = (), log: Path | None = None,
                 cwd: Path = REPO) -> None:
        super().__init__(lambda port: ["dashboard.cli", "serve", *map(str, paths),
                                       "--port", str(port), *extra], log=log, cwd=cwd)


@contextmanager
def dashboard_server(*paths: Path | str, extra: tuple[str, ...] = ()) -> Iterator[Server]:
    """``with dashboard_server(PATHS, extra=(...)) as url:`` — the real CLI server."""
    with DashboardServer(*paths, extra=extra) as server:
        yield server.url


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


def wait_until_live(proc: subprocess.Popen, url: Server, limit: float = 60.0) -> None:
    """Until ``url/liveness`` answers; the server's log in the error if it exits or hangs.

    ``/liveness`` rather than the app page: a GET of the page makes a session that
    never connects, and the server would tear it down in the middle of the test.
    """
    deadline = time.monotonic() + limit
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {url.log()[-5000:]}")
        try:
            with urllib.request.urlopen(f"{url}/liveness", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in {limit:g} s: "
                                   f"{url.log()[-5000:]}") from None
            time.sleep(0.1)


@contextmanager
def panel_server(panels: Any = None, **kwargs: Any) -> Iterator[int]:
    """A Panel server in a thread of this process, with its own event loop; yields its port.

    The socket is bound before the port is handed out, so nothing needs to wait.
    ``kwargs`` go to ``panel.io.server.get_server`` (``extra_patterns``,
    ``websocket_origin``, ...); the test reaches the sessions through its ``panels``.
    """
    import panel as pn
    from panel.io.server import get_server
    from tornado.ioloop import IOLoop

    started: queue.Queue = queue.Queue()
    options = {"port": 0, "address": "127.0.0.1", "websocket_origin": "*", **kwargs}

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        server = get_server(panels or {"app": lambda: pn.pane.Markdown("dashboard")},
                            loop=loop, **options)
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


def page_loads(doc: Any, loop: Any) -> None:
    """What a browser does once it has drawn a served page, for a session opened without
    one: Bokeh's ``DocumentReady`` event, on the session's loop (Panel runs its on-load
    callbacks then, and the session's updates start to flow)."""
    from bokeh.events import DocumentReady

    done = threading.Event()

    def ready() -> None:
        doc.callbacks.trigger_event(DocumentReady())
        done.set()

    loop.add_callback(lambda: doc.add_next_tick_callback(ready))
    if not done.wait(30):
        raise RuntimeError("the session's loop never ran its load")
