"""A real ``lute-dashboard serve`` on localhost for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

READY = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard_server(*paths: Path | str, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """Run the CLI's server in a subprocess until it answers; yield its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", *map(str, paths), "--port", str(port),
           *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="lute-server-", suffix=".log") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_live(proc, url, Path(log.name))
            yield url
        except BaseException:
            # What the server said is the first thing to read when a browser test fails.
            print(f"--- server log ---\n{Path(log.name).read_text()[-5000:]}")
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_live(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/liveness", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 60 s") from None
            time.sleep(0.1)


@pytest.fixture
def serve():
    """``with serve(path, ...) as url:`` — a dashboard server for one test."""
    return dashboard_server


def open_dashboard(page, url: str) -> None:
    """Navigate and wait until Bokeh has rendered the session."""
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


@pytest.fixture
def offline(page):
    """Block every request that would leave this machine; the list of blocked URLs."""
    blocked: list[str] = []

    def route(r):
        host = r.request.url.split("/")[2] if "://" in r.request.url else ""
        if host.split(":")[0] in ("127.0.0.1", "localhost") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked
