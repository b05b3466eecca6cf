"""Per-session view state, and the bridge from the shared model to one session's document.

What a person chose (experiment, open view, Task, run, summary page) lives in
:class:`SessionState`, one per browser session, and is mirrored in the URL so
a link pasted into the eLog opens the same view.  The shared ``Experiment``
changes on the refresh thread; :func:`subscribe` hands each change to the
session's own document thread, holds live changes back while the person has
paused updates, and unwatches when the session ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import panel as pn
import param
from panel.io.state import set_curdoc
from tornado.ioloop import IOLoop

from lute_model.experiment import ExperimentChange

log = logging.getLogger(__name__)
T = TypeVar("T")

VIEWS = ["overview", "tasks", "runs", "summary", "problems", "trends", "compare", "sheet",
         "timing"]

#: The SessionState of each live document, so that subscriptions can ask it.
_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class SessionState(param.Parameterized):
    """What one person is looking at: the first five fields make the deep link."""

    experiment = param.String(default="", doc="Name of the open experiment ('' = the picker).")
    view = param.Selector(objects=VIEWS, default="overview", doc="The open screen.")
    task = param.String(default="", doc="Task whose detail is open.")
    run = param.String(default="", doc="Run of the open Task detail.")
    page = param.String(default="", doc="display_name of the open summary page.")
    cols = param.String(default="", doc="Columns the Runs view shows, as its link says "
                        "(lute_model.run_table.link_of); '' = statuses and every numeric value.")
    trend = param.String(default="", doc="Values drawn against run: 'TASK:VALUE', several "
                         "joined by '|'.")
    compare = param.String(default="", doc="The two runs compared: 'R1,R2'.")
    prefix = param.String(default="", doc="URL prefix the server runs under.")
    paused = param.Boolean(default=False, doc="Live updates held back for this session.")
    title = param.String(default="LUTE dashboard", doc="The browser tab's title.")

    def register(self) -> None:
        """Make this the state that this document's subscriptions consult.

        The entry goes when the session ends: Panel can hold a closed session's
        document a while longer (as a thread's current document), and through
        this map it would hold that session's whole view tree too.
        """
        doc = pn.state.curdoc
        if doc is not None:
            _STATES[doc] = self
            if doc.session_context is not None:
                pn.state.on_session_destroyed(lambda _context: _STATES.pop(doc, None))


def subscribe(obj: param.Parameterized, names: str | list[str],
              callback: Callable[[Any], None]) -> None:
    """Watch ``obj`` for this session: callbacks run on the session's document thread.

    Events that arrive while the session is still busy with an earlier one are
    coalesced into one callback (a busy server must not queue a backlog per
    session).  Changes of ``change`` (live data) are skipped while the session
    is paused; the view resynchronises everything when it resumes.  The watcher
    is removed when the session is destroyed, so a closed browser tab leaves
    nothing behind on the shared object, and an error in one session's
    callback is logged and never reaches the shared refresh loop.
    """
    subscription = _Subscription(callback, live=names == "change")
    watcher = obj.param.watch(subscription.on_event, names)
    if subscription.inbox is not None:
        pn.state.on_session_destroyed(lambda _ctx: obj.param.unwatch(watcher))


class _Subscription:
    """One session's end of a watcher on a shared object.

    Its events go through the session's :class:`_Inbox`, which runs every
    subscription's callback of one refresh in one held flush.
    """

    def __init__(self, callback: Callable[[Any], None], live: bool) -> None:
        self.callback = callback
        self.live = live
        self.doc = pn.state.curdoc
        served = self.doc is not None and self.doc.session_context is not None
        self.inbox = _inbox(self.doc) if served else None

    def on_event(self, event: Any) -> None:
        """On the refresh thread (or at once, outside a served session)."""
        if self.inbox is None:
            self.run(event)
        else:
            self.inbox.put(self, event)

    def run(self, event: Any) -> None:
        """The callback, unless the session paused live updates; its errors are logged."""
        state = _STATES.get(self.doc) if self.doc is not None else None
        if self.live and state is not None and state.paused:
            return
        try:
            self.callback(event)
        except Exception:
            log.exception("a session's update failed")


async def in_worker(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread; returns (or raises) once this session's page
    has loaded in the browser, so that the caller may show the result at once.

    Between the browser's pull of the document and the page's load, Panel (1.9.4)
    drops what a held change sends (a layout's new children, or anything changed
    inside ``pn.io.hold``), assuming the document is still to be pulled: the Runs
    table swapped in for its spinner then never reached the browser, and later
    patches named models it never got.
    """
    try:
        return await asyncio.to_thread(function, *args)
    finally:
        await _page_loaded()


async def _page_loaded() -> None:
    """Returns once this session's page has loaded (at once outside a served session)."""
    if pn.state.curdoc is None or pn.state.loaded:
        return
    loaded = asyncio.get_running_loop().create_future()
    pn.state.onload(lambda: loaded.done() or loaded.set_result(None))
    pn.state.on_session_destroyed(lambda _context: loaded.cancel())
    await loaded


class _Inbox:
    """A session's one way in: from the refresh thread to its document, through its IOLoop.

    The refresh thread never touches the document itself: it hands the events to
    the session's IOLoop, which schedules one flush on the document.
    ``Document.add_next_tick_callback`` from another thread loses the callback
    when Panel holds the document at that moment (Bokeh's unhold swaps its list
    of held events without a lock); with coalescing, one lost callback left a
    session without updates for good (``bench/sessions.py`` saw 1 of 50
    sessions stuck).

    Events that come while a flush is scheduled join it, each subscription's as
    one coalesced event (a busy server must not queue a backlog per session).
    A flush runs every subscription's callback with the document held: what one
    refresh changes reaches the browser in one PATCH-DOC.  Held per
    subscription, a refresh that touched the feed, the grid and the title sent
    one each (``bench/sessions.py``: 50 sessions, 5 PATCH-DOCs per second each).

    Nothing is flushed before the page has loaded in the browser: see
    :func:`in_worker`.  What comes earlier waits, coalesced, for the load.
    """

    def __init__(self, doc: Any) -> None:
        # Weak: the inbox is kept per document in a weak map, which a strong
        # reference back would keep for good (and the session's views with it).
        self._doc = weakref.ref(doc)
        # Made on the session's thread: its IOLoop is the current one.
        self.loop = IOLoop.current()
        self.pending: dict[_Subscription, list[Any]] = {}
        self.scheduled = False
        self.loaded = False
        self.lock = threading.Lock()

    @property
    def doc(self) -> Any:
        return self._doc()

    def close(self) -> None:
        """The session ended: what is still queued goes (it holds the session's views)."""
        with self.lock:
            self.pending.clear()

    def open(self) -> None:
        """On the session's IOLoop, once the page has loaded: what waited is flushed."""
        with self.lock:
            self.loaded = True
            if self.scheduled or not self.pending:
                return
            self.scheduled = True
        self.loop.add_callback(self.schedule)

    def put(self, subscription: _Subscription, event: Any) -> None:
        """On the refresh thread: queue the event; only the first of a batch asks the loop."""
        if self._closed():
            return
        with self.lock:
            self.pending.setdefault(subscription, []).append(event)
            if self.scheduled or not self.loaded:
                return  # a flush is scheduled already, or the load will flush
            self.scheduled = True
        self.loop.add_callback(self.schedule)

    def schedule(self) -> None:
        """On the session's IOLoop thread: the only thread that holds and unholds the doc."""
        doc = self.doc
        if doc is not None and not self._closed():
            doc.add_next_tick_callback(self.flush)

    def flush(self) -> None:
        """On the document: everything queued so far, one event per subscription."""
        with self.lock:
            pending, self.pending = self.pending, {}
            self.scheduled = False
        doc = self.doc
        if not pending or doc is None:
            return
        # Panel builds and updates models for ``pn.state.curdoc``: make it this
        # session's document, as it is in a callback Panel itself schedules.
        with set_curdoc(doc), pn.io.hold(doc):
            for subscription, events in pending.items():
                subscription.run(_coalesced(events))

    def _closed(self) -> bool:
        return getattr(getattr(self.doc, "session_context", None), "destroyed", True)


#: Each served document's inbox, made by its first subscription.
_INBOXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inbox(doc: Any) -> _Inbox:
    inbox = _INBOXES.get(doc)
    if inbox is None:
        inbox = _INBOXES[doc] = _Inbox(doc)
        pn.state.on_session_destroyed(lambda _context: inbox.close())
        pn.state.onload(inbox.open)
    return inbox


def _coalesced(events: list[Any]) -> Any:
    """Several events of one parameter as one: from the first's old to the last's new."""
    if len(events) == 1:
        return events[0]
    first, last = events[0], events[-1]
    new = last.new
    if isinstance(new, ExperimentChange):
        new = ExperimentChange.merged([e.new for e in events if e.new is not None])
    return last._replace(old=first.old, new=new)
