"""The one place that puts a summary page on screen: a sandboxed ``<iframe>``.

Summary pages are untrusted HTML and display names come from whoever ran a
Task, so the URL is quoted part by part and the frame never gets
``allow-same-origin``: a page can run BokehJS but never touch the dashboard's
cookies or DOM.  ``dashboard.server`` serves the URL with a matching CSP.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from markupsafe import Markup

from dashboard.views.templates import HtmlTemplate


def report_url(prefix: str, experiment: str, display_name: str) -> str:
    """The URL of ``display_name``'s ``report.html``, each path part percent-encoded.

    ``prefix`` is where the dashboard's routes start as the browser sees them
    (``""`` at the server's root).  A ``/`` in ``display_name`` separates tab and
    page; any other character, ``?``, ``#``, ``%`` and spaces included, is quoted.
    The server decodes the parts back with ``surrogateescape`` (``server.py``).
    """
    parts = [_quote(part) for part in display_name.split("/") if part]
    return "/".join([prefix.rstrip("/"), "reports", _quote(experiment), *parts, "report.html"])


def _quote(part: str) -> str:
    """A path part percent-encoded as the bytes it has on disk: a folder name that is not
    UTF-8 reaches Python as lone surrogates (``surrogateescape``), and goes back so."""
    return quote(part.encode("utf-8", "surrogateescape"), safe="")


_IFRAME = HtmlTemplate(
    '<iframe src="{{ url }}" title="{{ title }}" sandbox="allow-scripts" '
    'referrerpolicy="no-referrer" loading="lazy" '
    'style="width: 100%; height: 100%; border: 0;"></iframe>')


def report_iframe(url: str, title: str) -> Markup:
    """``<iframe>`` markup for one summary page: scripts yes, same origin never.

    Only relative and http(s) URLs are accepted: a ``javascript:`` or ``data:``
    URL would be a page of the caller's making, not a file of ours.
    """
    if urlsplit(url).scheme.lower() not in ("", "http", "https"):
        raise ValueError(f"not a report URL: {url!r}")
    return _IFRAME(url=url, title=title)


def report_iframe_html(url: str, title: str) -> str:
    """The frame as a pane's ``object`` (a ``str``: see :mod:`dashboard.views.templates`)."""
    return str(report_iframe(url, title))
