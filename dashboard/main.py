"""Build one session's page: the template, the experiment picker or one experiment's screens.

Everything per session is made here (in an imported module, not in the served
script: Bokeh deletes the script's module when a session ends, and shared
callbacks defined there would break).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import panel as pn
from bokeh.document import Document
from panel.io.location import Location
from panel.theme import fast

from dashboard.registry import Registry, ServeConfig, configure, get_registry
from dashboard.session import SessionState, subscribe
from dashboard.views.experiment_picker import ExperimentPicker
from dashboard.views.experiment_view import ExperimentView
from dashboard.views.templates import HtmlTemplate
from dashboard.views.url_state import bind_url

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TITLE = "LUTE dashboard"
# Every session's page must load the JavaScript of the components that may be
# shown later (the Tasks screen is built when first opened).
pn.extension("tabulator", notifications=True)  # FAILED and TIMEDOUT Tasks raise one
# Pages come without MathJax (serving.UNUSED_BOKEH_JS, 1.8 MB): no pane typesets math,
# so a summary's "$5 … $6" or "\(" stays the text it is.
pn.pane.HTML.param.disable_math.default = True
pn.pane.Markdown.param.disable_math.default = True
pn.config.disconnect_notification = (
    "Lost the connection to the dashboard server: what you see is no longer updated. "
    "Reload the page to reconnect.")


class OfflineFast(fast.Fast):
    """Panel's Fast design without its web font: the beamline network has no internet,
    and a font request that cannot succeed only delays the page."""

    _resources: ClassVar[dict] = {
        key: value for key, value in fast.Fast._resources.items() if key != "font"}


# Panel finds a design's bundled files by its class name: keep Fast's.
OfflineFast.__name__ = "Fast"


class LuteTemplate(pn.template.FastListTemplate):
    """FastListTemplate that puts its page into the session's document in one go.

    Panel adds each part of a template (header, main items, location,
    notifications, ...) as a root of its own, and Bokeh re-walks every model of
    the document after each: about half of a page's build on the server.  Bokeh's
    ``models.freeze`` defers that walk to the end, once.
    """

    def server_doc(self, doc: Document | None = None, title: str | None = None,
                   location: bool | Location = True) -> Document:
        document = doc if doc is not None else pn.state.curdoc
        if document is None:
            return super().server_doc(doc, title, location)
        with document.models.freeze():
            return super().server_doc(document, title, location)


#: In the pane's own stylesheets: the template's CSS does not reach into its shadow root.
_EMPTY_CSS = """
.lute-empty { max-width: 760px; margin: 40px auto; line-height: 1.5; font-size: 1.05em; }
.lute-empty code { background: rgba(127, 127, 127, 0.15); padding: 1px 4px; border-radius: 3px; }
"""


_EMPTY = HtmlTemplate(
    "<div class='lute-empty'><h2>No LUTE results here yet</h2><p>The dashboard looked in "
    "{% for path in paths %}{% if not loop.first %}, {% endif %}<code>{{ path }}</code>"
    "{% else %}(none given){% endfor %} for LUTE's result files: a <code>lute.db</code> "
    "(usually in <code>work_dir/</code>) and a <code>stats/summary/</code> folder of summary "
    "pages. It found none.</p><ul>{% for p in problems %}<li><code>{{ p.path }}</code>: "
    "{{ p.message }}</li>{% endfor %}</ul><p>Point it at an experiment folder, or a folder "
    "of experiment folders: <code>lute-dashboard serve /sdf/data/lcls/ds/mfx/mfxp1001123"
    "</code>.</p></div>")


def _empty_page(registry: Registry) -> pn.viewable.Viewable:
    """What a page says when no experiment was found: where it looked, and what it met."""
    return pn.pane.HTML(
        str(_EMPTY(paths=registry.config.paths, problems=registry.problems)),
        sizing_mode="stretch_width", disable_math=True, stylesheets=[_EMPTY_CSS])


def _loading() -> pn.viewable.Viewable:
    return pn.Column(pn.indicators.LoadingSpinner(value=True, size=40, label="Reading results…"),
                     sizing_mode="stretch_width")


class SessionPage:
    """The main area of one session; follows the registry and the chosen experiment."""

    def __init__(self, registry: Registry, session: SessionState, header: pn.Row) -> None:
        self.registry = registry
        self.session = session
        self.header = header
        self.main = pn.Column(_loading(), sizing_mode="stretch_both")
        self._shown: str | None = None
        session.param.watch(self._render, "experiment")
        subscribe(registry, "loaded", self._render)
        self._render()

    def _render(self, *_events: object) -> None:
        registry, session = self.registry, self.session
        if not registry.loaded:
            return
        experiments = registry.experiments
        if not experiments:
            self.main.objects = [_empty_page(registry)]
            return
        if len(experiments) == 1 and session.experiment not in experiments:
            session.experiment = next(iter(experiments))
            return
        if session.experiment == self._shown and self._shown is not None:
            return
        self._shown = session.experiment
        if session.experiment in experiments:
            self.main.objects = [ExperimentView(
                experiment=experiments[session.experiment], session=session, header=self.header,
                watch_mode=registry.watch_mode, poll=registry.config.poll)]
        else:
            self.main.objects = [ExperimentPicker(registry=registry, session=session)]


def create_app(config: ServeConfig | None = None,
               registry: Registry | None = None) -> pn.template.BaseTemplate:
    """One session's page.  The first call in a process starts the shared registry.

    ``registry`` serves a given one instead of the process's (tests that count
    what sessions leave behind run several in one process).
    """
    if registry is None:
        registry = configure(config) if config is not None else get_registry()
    session = SessionState(prefix=registry.config.prefix)
    session.register()
    query = ""
    if pn.state.location is not None:
        query = pn.state.location.search or ""
    url = bind_url(session, query)
    header = pn.Row(sizing_mode="stretch_width", align="center")
    page = SessionPage(registry, session, header)
    template = LuteTemplate(
        title=TITLE,
        # Local files: Panel embeds them, so they work under any prefix, offline.
        logo=str(ASSETS / "logo.svg"),
        favicon=str(ASSETS / "favicon.svg"),
        main=[page.main, url],
        header=[header],
        design=OfflineFast,
        theme_toggle=True,
        header_background="#1d2a3a",
        accent_base_color="#0072B2",
        raw_css=[(ASSETS / "dashboard.css").read_text()],
        main_layout=None,
        font="system-ui, sans-serif",
        font_url="",
    )
    session.param.watch(lambda e: setattr(template, "title", f"{TITLE} · {e.new}"
                                          if e.new else TITLE), "experiment")
    return template
