"""What a request to ``lute-dashboard serve`` passes before Panel's and Bokeh's own handlers.

- The ``Host`` header must name this server (DNS rebinding: a page on
  ``evil.example`` whose name now resolves to 127.0.0.1 would otherwise read
  the dashboard with the browser's own cookies).  Allowed: the loopback names,
  the listening address, and the hosts of ``--allow-websocket-origin``; every
  route answers 400 to any other, ``/liveness`` and ``/reports`` included.
- Building a session's page costs ~0.5 s of the one event loop, in one
  synchronous stretch.  200 parallel ``GET /`` were built back to back in one
  loop iteration after another, and ``/liveness`` waited over a minute.  Page
  builds now go through a :class:`~dashboard.limits.Gate`: one at a time, the
  loop left free for a moment after each, a bounded line behind it, and
  503 + ``Retry-After`` past it.
- ``/autoload.js`` without a login answers 403 instead of a traceback.

All of it is added with tornado's ``Application.add_handlers``, whose rules
come before the routes Bokeh was built with.  Plain ``panel serve`` gives a
plugin no such place: there only our own routes check the ``Host``
(:func:`own_host_only`, ``dashboard/plugin.py``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bokeh.server.tornado import BokehTornado
from panel.io.server import AutoloadJsHandler, DocHandler
from tornado.httputil import split_host_and_port
from tornado.web import HTTPError, RequestHandler

from dashboard.limits import Busy, Gate
from dashboard.server import answer_busy

#: Names of this machine that no other site can make a browser send.
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_ANY_ADDRESS = ("", "0.0.0.0", "::", "[::]")

#: Pages built at once.  Building is pure Python on the event loop: a second one at
#: the same time only makes both, and everyone else, wait longer.
PAGE_BUILDS = 1
#: After a page, the loop is left to everyone else for this fraction of its build time.
PAGE_REST = 0.25
#: Requests for a page waiting behind that, and for how long at most.  About 0.6 s per
#: page: a full line is built in ~15 s; whoever comes later is told to come back.
PAGE_LINE = 25
PAGE_WAIT_S = 15.0


def page_gate() -> Gate:
    """The gate all page builds of one server go through."""
    return Gate(PAGE_BUILDS, max_waiting=PAGE_LINE, wait_s=PAGE_WAIT_S, rest=PAGE_REST)


def allowed_hosts(address: str, origins: Iterable[str]) -> list[str] | None:
    """Host name patterns the server answers to, or None for any (an origin ``*``).

    Ports are left out: a rebinding attack changes the name, not the port, and
    a proxy in front may use its own port.  ``*`` stands for one dot-separated
    part, as in Bokeh's ``--allow-websocket-origin`` patterns.
    """
    hosts = list(LOOPBACK)
    if address not in _ANY_ADDRESS:
        hosts.append(f"[{address}]" if ":" in address else address)
    for origin in origins:
        if origin.strip() == "*":
            return None
        hosts.append(split_host_and_port(origin.strip().lower())[0])
    return list(dict.fromkeys(h.lower() for h in hosts))


def foreign_host_pattern(hosts: Iterable[str]) -> str:
    """A tornado host pattern matching every host name *not* among ``hosts``."""
    names = ["[^.]*".join(re.escape(part) for part in host.split("*")) for host in hosts]
    return rf"(?!(?:{'|'.join(names)})$).*$"


def refuse_host(handler: RequestHandler) -> None:
    """400, saying why: the request named a host this server was not told it has."""
    handler.set_status(400)
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler.finish("400: this server does not answer to that host name (Host header). "
                   "Use the address it was started for, or start it with "
                   "--allow-websocket-origin HOST:PORT.\n")


class UnknownHostHandler(RequestHandler):
    """Every request whose ``Host`` names a host this server was not told it has."""

    def prepare(self) -> None:
        refuse_host(self)


@functools.lru_cache(maxsize=8)
def _foreign_hosts(origins: frozenset[str]) -> re.Pattern[str] | None:
    hosts = allowed_hosts("", origins)
    return None if hosts is None else re.compile(foreign_host_pattern(hosts))


def own_host_only(handler: RequestHandler) -> bool:
    """A ``server.Guard`` for plain ``panel serve``: refuse a ``Host`` that is not this server.

    The hosts are the loopback names and those of the server's websocket
    origins (``--allow-websocket-origin``, Bokeh's ``localhost:PORT`` when none
    is given): a browser that reached the page by any other name could not open
    its websocket either.  Returns True when it answered the request.
    """
    origins = handler.application.websocket_origins  # type: ignore[attr-defined]
    foreign = _foreign_hosts(frozenset(origins))
    if foreign is None or not foreign.match(handler.request.host_name):
        return False
    refuse_host(handler)
    return True


class _GatedSession:
    """Builds a session's page only in its turn at the gate; 503 when none comes."""

    gate: Gate
    current_user: Any

    def initialize(self, *args: Any, gate: Gate, **kwargs: Any) -> None:
        self.gate = gate

    async def _in_turn(self, build: Callable[..., Awaitable[None]], *args: Any,
                       **kwargs: Any) -> None:
        try:
            async with self.gate.turn():
                await build(*args, **kwargs)
        except Busy as busy:
            answer_busy(self, busy.retry_after,  # type: ignore[arg-type]
                        "opening the dashboard for other browser tabs")


class GatedDocHandler(_GatedSession, DocHandler):
    """Panel's page handler (``GET /``), in line at the gate."""

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not self.current_user:
            # The way to the login page costs nothing: no line.  Panel's ``get`` is
            # @authenticated, which redirects and returns None (nothing to await).
            super().get(*args, **kwargs)
            return
        await self._in_turn(super().get, *args, **kwargs)


class GatedAutoloadJsHandler(_GatedSession, AutoloadJsHandler):
    """Panel's ``/autoload.js`` (it builds a session too), in line at the gate.

    Without a login it is refused with 403: Panel's handler would go on with
    the login redirect's ``None`` as its session and log a traceback each time.
    """

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not self.current_user:
            raise HTTPError(403, reason="Not logged in")
        await self._in_turn(super().get, *args, **kwargs)


def install_guards(app: BokehTornado, hosts: list[str] | None, gate: Gate) -> None:
    """Put the host check and the page gate in front of ``app``'s routes.

    ``hosts`` from :func:`allowed_hosts` (None: no check).  The gated handlers
    take the very patterns and arguments of the routes they stand in front of.
    """
    if hosts is not None:
        app.add_handlers(foreign_host_pattern(hosts), [(r".*", UnknownHostHandler)])
    ours = {DocHandler: GatedDocHandler, AutoloadJsHandler: GatedAutoloadJsHandler}
    gated = [(rule.matcher.regex.pattern, ours[rule.target], {**rule.target_kwargs, "gate": gate})
             for rule in app.wildcard_router.rules if rule.target in ours]
    app.add_handlers(r".*", gated)
