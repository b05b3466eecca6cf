"""Deep links: the session's state in the URL's query, with working back/forward.

The same small component also sets the browser tab's title, which a server-side
change of the Bokeh document's title does not reach.


Panel's ``pn.state.location.sync`` pushes a history entry for every change but
never hears the browser's back/forward (no ``popstate`` listener), so this
small component does both: Python sets ``search``, the browser pushes it only
when it differs from the address bar, and ``popstate`` sends the address back.
Because the browser compares before pushing, applying a popped state never
pushes it again.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import param
from panel.custom import JSComponent

from dashboard.session import VIEWS, SessionState

#: Query keys, in the order they appear in a link.
KEYS = ("exp", "view", "task", "run", "page", "cols", "trend", "compare")
#: A name from disk can hold what UTF-8 cannot: a folder name's byte that is not
#: UTF-8 (which Python keeps as a lone surrogate), a lone surrogate from a JSON
#: journal.  Such characters go into the link as their surrogate's bytes and come
#: back as the same character, so the link opens the same page.
URL_ERRORS = "surrogatepass"


def to_query(state: SessionState) -> str:
    """The query string of a deep link to what ``state`` shows."""
    fields = {"exp": state.experiment, "task": state.task, "run": state.run, "page": state.page,
              "cols": state.cols,
              "trend": state.trend, "compare": state.compare}
    if state.view != default_view(fields):
        fields["view"] = state.view
    return urlencode({key: fields[key] for key in KEYS if fields.get(key)}, errors=URL_ERRORS)


def from_query(query: str) -> dict[str, str]:
    """SessionState updates from a query string; unknown keys and values are ignored."""
    try:
        parsed = parse_qs(query.lstrip("?"), errors=URL_ERRORS)
    except UnicodeDecodeError:  # a link made elsewhere, with bytes that are not UTF-8
        parsed = parse_qs(query.lstrip("?"), errors="replace")
    raw = {key: values[-1] for key, values in parsed.items() if values}
    update = {"experiment": raw.get("exp", ""), "task": raw.get("task", ""),
              "run": raw.get("run", ""), "page": raw.get("page", ""), "cols": raw.get("cols", ""),
              # Several values: joined by '|' in one key, or the key repeated.
              "trend": "|".join(parsed.get("trend", [])), "compare": raw.get("compare", "")}
    view = raw.get("view")
    if view not in VIEWS:
        view = default_view(update)
    update["view"] = view
    return {key: value[:4096] for key, value in update.items()}


def default_view(fields: dict[str, str]) -> str:
    """The screen a link without ``view=`` opens: the one its other keys are about."""
    if fields.get("task"):
        return "overview"
    for key, view in (("page", "summary"), ("trend", "trends"), ("compare", "compare")):
        if fields.get(key):
            return view
    return "overview"


class UrlState(JSComponent):
    """Mirror of ``window.location.search`` (without the ``?``)."""

    search = param.String(default="", doc="The query string, set from either side.")
    title = param.String(default="", doc="The browser tab's title.")

    _esm = """
    export function render({ model }) {
      const wanted = () => (model.search ? "?" + model.search : "")
      const url = () => window.location.pathname + wanted() + window.location.hash
      if (window.location.search !== wanted()) { window.history.replaceState({}, "", url()) }
      model.on("search", () => {
        if (window.location.search !== wanted()) { window.history.pushState({}, "", url()) }
      })
      const popped = () => { model.search = window.location.search.replace(/^\\?/, "") }
      window.addEventListener("popstate", popped)
      model.on("remove", () => window.removeEventListener("popstate", popped))
      const retitle = () => { if (model.title) { document.title = model.title } }
      model.on("title", retitle)
      retitle()
      const marker = document.createElement("span")
      marker.style.display = "none"
      return marker
    }
    """


def bind_url(state: SessionState, initial_query: str) -> UrlState:
    """Apply the link the session was opened with, then keep URL and state in step."""
    state.param.update(**{k: v for k, v in from_query(initial_query).items()
                          if v or k == "view"})
    url = UrlState(search=to_query(state), title=state.title, height=0, width=0, margin=0)
    state.param.watch(lambda event: setattr(url, "title", event.new), "title")

    def state_changed(*_events: object) -> None:
        url.search = to_query(state)

    def url_changed(event: param.parameterized.Event) -> None:
        if event.new != to_query(state):
            state.param.update(**from_query(event.new))

    state.param.watch(state_changed, ["experiment", "view", "task", "run", "page", "cols", "trend",
                                      "compare"])
    url.param.watch(url_changed, "search")
    return url
