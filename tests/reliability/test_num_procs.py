"""``lute-dashboard serve --num-procs 2``: two processes on one port, each with its own readers.

The kernel hands each new connection to whichever process accepts it first, so
the test decides where a page goes: while one worker is stopped (SIGSTOP) only
the other can accept, and a page opened then (its HTML, scripts and websocket)
is that worker's session.  Two pages, one on each worker, must show the same
state, and a status change written afterwards must reach both.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from lute_writers.journal import JOURNAL_NAME, append_event
from tests.support.browser import GRID_CELLS_JS, READY
from tests.support.experiments import build_experiment

pytestmark = pytest.mark.timeout(180)


def workers(supervisor: int, count: int, timeout: float = 60.0) -> list[int]:
    """The processes ``supervisor`` forked, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
        if len(children) >= count or time.monotonic() > deadline:
            return [int(pid) for pid in children]
        time.sleep(0.1)


def holds_open(pid: int, name: str) -> bool:
    """Whether process ``pid`` has a file called ``name`` open."""
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            if os.readlink(fd).endswith(name):
                return True
        except OSError:
            continue
    return False


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """``pid`` takes no connection meanwhile: it is stopped, and continued after."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def open_on(browser: Browser, url: str, other: int) -> Page:
    """A page whose every connection went to the worker that is not ``other``."""
    with stopped(other):
        page = browser.new_context().new_page()
        page.goto(url)
        page.wait_for_function(READY, timeout=60_000)
        page.wait_for_function(f"() => ({GRID_CELLS_JS})().length > 0", timeout=60_000)
    return page


def cells(page: Page) -> list[tuple[str, str, str]]:
    return sorted((c["task"], c["run"], c["status"]) for c in page.evaluate(GRID_CELLS_JS))


def test_two_processes_on_one_port_each_read_and_show_the_same_state(
        browser: Browser, serve: Callable, tmp_path: Path) -> None:
    folder = build_experiment(tmp_path)
    with serve(folder, extra=("--num-procs", "2")) as url:
        first, second = workers(url.pid, 2)
        deadline = time.monotonic() + 60
        while not (holds_open(first, "lute.db") and holds_open(second, "lute.db")):
            assert time.monotonic() < deadline, "a worker never opened lute.db itself"
            time.sleep(0.1)
        on_second = open_on(browser, f"{url}/", other=first)
        on_first = open_on(browser, f"{url}/", other=second)
        assert cells(on_first) == cells(on_second)
        assert ("IndexCrystFEL", "2", "FAILED") in cells(on_first)

        append_event(folder / "work_dir" / JOURNAL_NAME, task="FindPeaksPyAlgos", run="4",
                     status="RUNNING")
        shows_run_4 = f"""() => ({GRID_CELLS_JS})().some(
            c => c.task === "FindPeaksPyAlgos" && c.run === "4" && c.status === "RUNNING")"""
        for page in (on_first, on_second):
            page.wait_for_function(shows_run_4, timeout=30_000)
        assert cells(on_first) == cells(on_second)


def test_the_workers_stop_with_the_first_process(serve: Callable, tmp_path: Path) -> None:
    folder = build_experiment(tmp_path)
    with serve(folder, extra=("--num-procs", "2")) as url:
        pids = workers(url.pid, 2)
        assert len(pids) == 2
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline, "a worker outlived the server and kept the port"
        time.sleep(0.1)
