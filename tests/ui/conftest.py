"""A real ``lute-dashboard serve`` on localhost for the browser tests."""

from __future__ import annotations

import pytest

from dashboard.testing import dashboard_server, free_port

__all__ = ["READY", "dashboard_server", "free_port", "open_dashboard"]

READY = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"


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
