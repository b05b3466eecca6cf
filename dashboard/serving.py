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
import logging
import secrets
import sys

import panel as pn

from dashboard.auth import LuteAuthProvider
from dashboard.guards import allowed_hosts, install_guards, page_gate
from dashboard.main import create_app
from dashboard.registry import ServeConfig, configure

LOCAL = {"127.0.0.1", "localhost", "::1"}


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


def serve(args: argparse.Namespace) -> int:
    # Warnings and errors of every part (Bokeh's included) to the terminal.
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    origins = _origins(args)
    if origins is None:
        print(f"lute-dashboard: listening on {args.address} needs --allow-websocket-origin "
              "HOST:PORT (the address people type in their browser)", file=sys.stderr)
        return 2
    prefix = "/" + args.prefix.strip("/") if args.prefix.strip("/") else ""
    config = ServeConfig(tuple(args.paths), tuple(args.db or ()), args.summary_dir, args.poll,
                         prefix, inotify=not args.no_inotify)
    registry = configure(config)
    from dashboard.server import report_patterns

    # Bokeh puts its --prefix in front of every extra pattern itself.
    patterns = report_patterns(registry.summary_roots)
    host = "localhost" if args.address in LOCAL else args.address
    print(f"LUTE dashboard: http://{host}:{args.port}{prefix}/", flush=True)
    def app() -> pn.template.BaseTemplate:
        return create_app(config)

    auth = {"auth_provider": LuteAuthProvider(args.basic_auth)} if args.basic_auth else {}
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
        **auth,
        **session_cleanup(args.unused_session_lifetime),
    )
    # Bokeh hands out its tornado Application by no other name; the guards only add
    # rules to it through tornado's public add_handlers.
    install_guards(server._tornado, allowed_hosts(args.address, origins), page_gate())
    server.start()
    server.io_loop.start()
    return 0
