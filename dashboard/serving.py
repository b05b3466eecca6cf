"""``lute-dashboard serve``: Panel's server on the app, with our report routes.

Binds to localhost unless told otherwise; listening anywhere else requires
naming the origins browsers will use (``--allow-websocket-origin``), so that a
page on another site cannot drive a session's websocket.  Those names, the
listening address and the loopback names are also the only ``Host`` headers
answered (``guards.py``), page builds wait their turn at one gate, and
``--basic-auth`` logins can be ended and are slow to guess (``auth.py``).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import secrets
import signal
import sys

import panel as pn
from bokeh.resources import Resources
from bokeh.server.tornado import BokehTornado

from dashboard.auth import LuteAuthProvider
from dashboard.cli import serve_config
from dashboard.guards import allowed_hosts, install_guards, page_gate
from dashboard.main import create_app
from dashboard.registry import configure

LOCAL = {"127.0.0.1", "localhost", "::1"}
#: prctl(2): the signal a process gets when its parent ends.
PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def _origins(args: argparse.Namespace) -> list[str] | None:
    if args.allow_websocket_origin:
        return list(args.allow_websocket_origin)
    if args.address in LOCAL:
        return [f"localhost:{args.port}", f"127.0.0.1:{args.port}"]
    return None


def session_cleanup(lifetime_ms: int) -> dict[str, int]:
    """Bokeh's options that drop a closed tab's session after ``lifetime_ms``.

    Under Bokeh's own names: ``pn.serve`` passes unknown keywords on and Bokeh
    silently ignores them (``unused_session_lifetime=`` did nothing here).
    """
    return {"unused_session_lifetime_milliseconds": lifetime_ms,
            "check_unused_sessions_milliseconds": max(500, min(17000, lifetime_ms))}


#: BokehJS bundles that Bokeh puts on every page and no page of ours uses: MathJax
#: (1.8 MB; math is off in every HTML and Markdown pane, see ``main.py``) and WebGL
#: (no plot draws with it).  Without them a page parses 2 MB less JavaScript.
UNUSED_BOKEH_JS = ("bokeh-mathjax", "bokeh-gl")


def lean_bokeh_js(application: BokehTornado) -> None:
    """Leave :data:`UNUSED_BOKEH_JS` off the pages of this server.

    Bokeh picks a page's bundles from ``BokehTornado.resources()`` and offers no
    setting for it, so the application's own method is wrapped: the same
    resources, minus those components.
    """
    everything = application.resources

    def resources(absolute_url: str | bool | None = None) -> Resources:
        full = everything(absolute_url)
        return full.clone(components=[c for c in full.components if c not in UNUSED_BOKEH_JS])

    application.resources = resources  # type: ignore[method-assign]


def end_with(supervisor: int) -> None:
    """End this server process when ``supervisor`` (the one that forked it) ends.

    With ``--num-procs`` tornado's supervising process only waits for its workers:
    stopped with SIGTERM, it would leave them serving the port.  Linux sends each
    worker SIGTERM when its parent dies (``PR_SET_PDEATHSIG``); elsewhere the
    workers have to be stopped themselves.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError):
        log.warning("--num-procs: the workers will not stop with the first process")
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it ended before this process asked
        os._exit(0)


def serve(args: argparse.Namespace) -> int:
    # Warnings and errors of every part (Bokeh's included) to the terminal.
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    origins = _origins(args)
    if origins is None:
        print(f"lute-dashboard: listening on {args.address} needs --allow-websocket-origin "
              "HOST:PORT (the address people type in their browser)", file=sys.stderr)
        return 2
    if args.num_procs < 1 or (args.num_procs > 1 and args.basic_auth):
        # Logins are kept in the process that made them (auth.py): another would refuse them.
        print("lute-dashboard: --num-procs needs a number ≥ 1, and 1 with --basic-auth",
              file=sys.stderr)
        return 2
    config = serve_config(args)
    prefix = config.prefix
    # Made here, started below in each server process: --num-procs forks in pn.serve.
    registry = configure(config, start=False)
    from dashboard.server import report_patterns

    # Bokeh puts its --prefix in front of every extra pattern itself.
    patterns = report_patterns(registry.summary_roots)
    host = "localhost" if args.address in LOCAL else args.address
    print(f"LUTE dashboard: http://{host}:{args.port}{prefix}/", flush=True)
    def app() -> pn.template.BaseTemplate:
        return create_app(config)

    auth = {"auth_provider": LuteAuthProvider(args.basic_auth)} if args.basic_auth else {}
    supervisor = os.getpid()
    server = pn.serve(
        app,
        port=args.port,
        address=args.address,
        websocket_origin=origins,
        prefix=prefix,
        cookie_secret=args.cookie_secret or secrets.token_hex(32),
        extra_patterns=patterns,
        show=args.show,
        title="LUTE dashboard",
        liveness=True,
        start=False,
        num_procs=args.num_procs,
        **auth,
        **session_cleanup(args.unused_session_lifetime),
    )
    # From here on in each of the --num-procs processes (tornado forked them above):
    # each reads the experiments with its own registry thread and readers.
    if args.num_procs > 1:
        end_with(supervisor)
    registry.start()
    # Bokeh hands out its tornado Application by no other name; the guards only add
    # rules to it through tornado's public add_handlers.
    install_guards(server._tornado, allowed_hosts(args.address, origins), page_gate())
    lean_bokeh_js(server._tornado)
    server.start()
    server.io_loop.start()
    return 0
