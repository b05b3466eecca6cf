"""Updates from the shared refresh thread reach every session, however busy it is.

The refresh thread changes the shared state while sessions are being built,
held and patched on the server's IOLoop.  ``bench/sessions.py`` once found 1 of
50 sessions that never received another update: a next-tick callback added to
a document from the refresh thread was lost while Panel held that document.
These tests serve a real Panel app and fire changes from a second thread.
"""

from __future__ import annotations

import gc
import inspect
import threading
import urllib.request
import weakref
from pathlib import Path
from typing import Any

import panel as pn
import param
import pytest
from bokeh.server.tornado import BokehTornado
from playwright.sync_api import Page, expect
from tornado.ioloop import IOLoop

from dashboard.main import create_app
from dashboard.registry import Registry, ServeConfig
from dashboard.serving import session_cleanup
from dashboard.session import SessionState, subscribe
from dashboard.views.experiment_view import ExperimentView
from lute_writers.journal import JOURNAL_NAME, append_event
from tests.support.servers import page_loads, panel_server
from tests.support.waits import wait_until


class Shared(param.Parameterized):
    """Stands for the process-wide Experiment: one object, many sessions."""

    value = param.Integer(default=0)


class Session:
    """What the app records for one session: its document, loop and the values it saw."""

    def __init__(self) -> None:
        self.doc: Any = None
        self.loop: IOLoop | None = None
        self.seen: list[int] = []
        self.ready = threading.Event()


@pytest.fixture
def served():
    """A served app whose sessions subscribe to one shared object; yields (shared, open)."""
    shared = Shared()
    sessions: list[Session] = []

    def app() -> pn.viewable.Viewable:
        session = sessions[-1]
        session.doc, session.loop = pn.state.curdoc, IOLoop.current()
        subscribe(shared, "value", lambda event: session.seen.append(event.new))
        session.ready.set()
        return pn.pane.Markdown("session")

    with panel_server({"app": app}) as port:
        def open_session(load: bool = True) -> Session:
            session = Session()
            sessions.append(session)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30).read()
            assert session.ready.wait(30)
            if load:
                page_loads(session.doc, session.loop)
            return session

        yield shared, open_session


def test_the_refresh_thread_leaves_the_document_to_the_session_loop(served):
    shared, open_session = served
    session = open_session()
    busy, release = threading.Event(), threading.Event()

    def block() -> None:  # the session's loop is busy, e.g. building another page
        busy.set()
        release.wait(30)

    session.loop.add_callback(block)
    assert busy.wait(10)
    shared.value = 1  # the refresh thread publishes
    # Nothing was added to the document from this thread: that is the loop's job.
    assert session.doc.session_callbacks == []
    release.set()
    wait_until(lambda: session.seen == [1])


def test_what_comes_before_the_page_has_loaded_waits_for_the_load(served):
    """Panel drops a held change made between the browser's pull of the document and the
    page's load; the session's updates wait for the load instead, coalesced."""
    shared, open_session = served
    session = open_session(load=False)
    shared.value = 1
    shared.value = 2
    loaded = open_session()  # another session, loaded: it hears at once
    shared.value = 3
    wait_until(lambda: loaded.seen == [3])
    assert session.seen == []
    page_loads(session.doc, session.loop)
    wait_until(lambda: session.seen == [3])


def test_a_busy_session_gets_one_coalesced_update_and_then_the_next(served):
    shared, open_session = served
    idle, busy = open_session(), open_session()
    gate = threading.Event()
    busy.loop.add_callback(lambda: gate.wait(30))  # one loop for both: both wait
    for value in range(1, 51):
        shared.value = value
    gate.set()
    wait_until(lambda: idle.seen == busy.seen == [50])  # fifty changes, one callback each
    shared.value = 51
    wait_until(lambda: idle.seen == busy.seen == [50, 51])


def _watcher_count(obj: param.Parameterized) -> int:
    return sum(len(watchers) for by_what in obj.param.watchers.values()
               for watchers in by_what.values())


def _alive(cls: type) -> list[weakref.ref]:
    """Weak references to the live instances of ``cls`` (other tests' may be among them)."""
    gc.collect()
    return [weakref.ref(obj) for obj in gc.get_objects() if isinstance(obj, cls)]


def _gone(refs: list[weakref.ref]) -> bool:
    gc.collect()
    return all(ref() is None for ref in refs)


def test_closed_sessions_leave_no_watcher_and_no_view_behind(experiment_dir: Path):
    """Sessions of the real page come and go (as in ``bench/soak.py``): nothing stays.

    RSS cannot show this (closed sessions' memory is reused, not returned);
    the shared Experiment's watchers and the live view objects can.
    """
    registry = Registry(ServeConfig(paths=(str(experiment_dir),)))
    registry.start()
    wait_until(lambda: registry.loaded)
    (experiment,) = registry.experiments.values()
    before = _watcher_count(experiment)
    try:
        with panel_server({"app": lambda: create_app(registry=registry)},
                          **session_cleanup(2000)) as port:
            for cycle in range(2):
                earlier = {ref() for ref in _alive(SessionState) + _alive(ExperimentView)}
                watching = []  # after each open: a session unused for 2 s may go already
                for _ in range(3):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30).read()
                    watching.append(_watcher_count(experiment))
                ours = [ref for ref in _alive(SessionState) + _alive(ExperimentView)
                        if ref() not in earlier]
                del earlier
                assert len(ours) >= 3 and max(watching) > before
                append_event(experiment_dir / "work_dir" / JOURNAL_NAME, task="Probe",
                             run=str(cycle), status="RUNNING", message="a change while open")
                wait_until(lambda: _watcher_count(experiment) == before, timeout=20)
                wait_until(lambda ours=ours: _gone(ours), timeout=10)
    finally:
        registry.stop()


def test_the_serve_option_really_drops_a_closed_tabs_session():
    """``--unused-session-lifetime`` once reached Bokeh under a name it ignores."""
    options = session_cleanup(300)
    accepted = inspect.signature(BokehTornado.__init__).parameters
    assert set(options) <= set(accepted)
    destroyed = threading.Event()

    def app() -> pn.viewable.Viewable:
        pn.state.on_session_destroyed(lambda _context: destroyed.set())
        return pn.pane.Markdown("session")

    with panel_server({"app": app}, **options) as port:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30).read()
        assert destroyed.wait(10), "Bokeh's default (15 s unused, checked every 17 s) applied"


class Pair(param.Parameterized):
    """A shared object of which one refresh changes two things (as the feed and the grid)."""

    first = param.Integer(default=0)
    second = param.Integer(default=0)


def test_what_one_refresh_changes_reaches_a_session_in_one_held_update(page: Page):
    """Every subscription of a session runs in one hold: the browser gets one PATCH-DOC
    per refresh, not one per subscription (5 a second for each of 50 sessions)."""
    shared, ready, loops = Pair(), threading.Event(), []

    def app() -> pn.viewable.Viewable:
        loops.append(IOLoop.current())
        first, second = pn.pane.Str("first -"), pn.pane.Str("second -")
        subscribe(shared, "first", lambda event: setattr(first, "object", f"first {event.new}"))
        subscribe(shared, "second",
                  lambda event: setattr(second, "object", f"second {event.new}"))
        pn.state.onload(ready.set)
        return pn.Column(first, second)

    patches: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: patches.append(
        payload) if isinstance(payload, str) and '"PATCH-DOC"' in payload else None))
    with panel_server({"app": app}) as port:
        page.goto(f"http://127.0.0.1:{port}/app")
        assert ready.wait(30)
        page.wait_for_function("() => Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle")
        before = len(patches)
        # The session's loop is busy while the refresh publishes (as it is on a loaded
        # server): both changes are queued before the loop can flush the first alone.
        busy, release = threading.Event(), threading.Event()
        loops[0].add_callback(lambda: (busy.set(), release.wait(30)))
        assert busy.wait(10)
        shared.param.update(first=1, second=1)  # on this thread, as the refresh thread does
        release.set()
        expect(page.get_by_text("second 1")).to_be_visible()
        expect(page.get_by_text("first 1")).to_be_visible()
        page.wait_for_timeout(300)  # a second message would have come by now
        assert len(patches) - before == 1, patches[before:]
