"""``Html.format`` and ``esc``: the opt-in escaping that :mod:`dashboard.views.templates` replaces.

The views move to templates one by one (issue 12); the badge, legend and
``visible`` are re-exported from there meanwhile, and this module goes with
the last ``esc``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from markupsafe import escape as _html_escape

from dashboard.views.templates import badge, legend, status_css, visible

__all__ = ["Html", "badge", "esc", "legend", "status_css", "visible"]


class Html(Markup):
    """Markup whose every hole goes through :func:`esc`: ``Html("<b>{}</b>").format(name)``."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any, /) -> Html:
        """Already-safe markup stays as it is; anything else is made visible, then escaped."""
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(_html_escape(visible("" if s is None else str(s))))


def esc(value: object) -> Html:
    """Text as HTML, quotes included (safe inside attributes too); None is empty."""
    return Html.escape(value)
