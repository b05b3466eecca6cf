"""One experiment's screens: overview grid, Task table, summary pages, problems.

Every view module is imported here, eagerly: a module that defines a custom
component (JSComponent) must be imported before a session's page is made, or
that page's browser never learns the component's type and shows nothing.

The Task detail sits beside the grid and the table (one instance per session,
so it keeps its state while the person switches between them).  Hidden
screens are built only when first opened.
"""

from __future__ import annotations

import panel as pn
import param

from dashboard.session import SessionState, subscribe
from dashboard.views.compare import CompareView
from dashboard.views.live import LiveStatus, shared_feed_html
from dashboard.views.problems import ProblemsView
from dashboard.views.run_sheet import SummaryScreen
from dashboard.views.runs_view import RunsView
from dashboard.views.status_grid import StatusGrid
from dashboard.views.task_detail import TaskDetail
from dashboard.views.task_table import TaskTable
from dashboard.views.timing import TimingView
from dashboard.views.trends import TrendsView
from lute_model.experiment import Experiment, ExperimentChange

SCREENS = [("overview", "Overview"), ("tasks", "Tasks"), ("runs", "Runs"),
           ("summary", "Summary pages"), ("trends", "Trends"), ("compare", "Compare"),
           ("timing", "Timing"), ("problems", "Problems")]
#: The view of each screen but Problems (which shows the experiment's, not a session's).
SCREEN_VIEWS = {"overview": StatusGrid, "tasks": TaskTable, "runs": RunsView,
                "summary": SummaryScreen, "trends": TrendsView, "compare": CompareView,
                "timing": TimingView}
#: Views that are a mode of another screen's tab.
SHOWN_IN = {"sheet": "summary"}
#: Screens beside which a Task detail opens (a click there chooses a Task and run).
WITH_DETAIL = ("overview", "tasks", "runs", "trends")


class ExperimentView(pn.viewable.Viewer):
    """The screens of one experiment for one session."""

    experiment = param.ClassSelector(class_=Experiment)
    session = param.ClassSelector(class_=SessionState)
    header = param.ClassSelector(class_=pn.Row, doc="The template header's slot for live parts.")
    watch_mode = param.String(default="", doc="How the server watches the disk.")
    poll = param.Number(default=0.5, doc="The server's polling interval, seconds.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._live = LiveStatus(experiment=self.experiment, session=self.session,
                                mode=self.watch_mode, poll=self.poll)
        if self.header is not None:
            self.header.objects = self._live.header
        self._built: dict[str, pn.viewable.Viewer] = {}  # screen -> its view, once opened
        self._detail = None
        self._tabs = pn.Tabs(*[(title, pn.Column(name=key)) for key, title in SCREENS],
                             dynamic=False, sizing_mode="stretch_both")
        self._tabs.param.watch(self._tab_chosen, "active")
        self.session.param.watch(self._view_changed, "view")
        self.session.param.watch(self._detail_visibility, ["task", "view"])
        subscribe(self.experiment, "problems", self._title_problems)
        self.session.param.watch(self._resumed, "paused")
        self._detail_column = pn.Column(width=520, visible=False, scroll=True,
                                        sizing_mode="stretch_height")
        self._open(self.session.view)
        self._title_problems()
        self._detail_visibility()

    # -- screens -------------------------------------------------------------

    def _make(self, key: str) -> pn.viewable.Viewable:
        if key == "problems":
            return ProblemsView(experiment=self.experiment)
        return SCREEN_VIEWS[key](experiment=self.experiment, session=self.session)

    def _open(self, key: str) -> None:
        key = SHOWN_IN.get(key, key)
        index = [k for k, _ in SCREENS].index(key)
        if key not in self._built:
            view = self._built[key] = self._make(key)
            self._tabs[index].objects = [self._live, view] if key == "overview" else [view]
        if self._tabs.active != index:
            self._tabs.active = index

    def _tab_chosen(self, event: param.parameterized.Event) -> None:
        key = SCREENS[event.new][0]
        self._open(key)
        if SHOWN_IN.get(self.session.view, self.session.view) != key:
            self.session.view = key

    def _view_changed(self, event: param.parameterized.Event) -> None:
        self._open(event.new)

    # -- Task detail ---------------------------------------------------------

    def _detail_visibility(self, *_events: object) -> None:
        show = bool(self.session.task) and self.session.view in WITH_DETAIL
        if show and self._detail is None:
            self._detail = TaskDetail(experiment=self.experiment, session=self.session)
            self._detail_column.objects = [self._detail]
        self._detail_column.visible = show

    # -- live ----------------------------------------------------------------

    def _resumed(self, event: param.parameterized.Event) -> None:
        """Back from a pause: bring every view up to the shared state in one go."""
        if event.new:
            return
        everything = ExperimentChange(reset=True)
        for view in [self._detail, *self._built.values()]:
            apply = getattr(view, "apply_change", None)
            if apply is not None:
                apply(everything)
        self._live.feed.object = shared_feed_html(self.experiment)

    def _title_problems(self, *_events: object) -> None:
        count = len(self.experiment.problems)
        title = f"Problems ({count})" if count else "Problems"
        index = [key for key, _ in SCREENS].index("problems")
        self._tabs[index] = (title, self._tabs[index])

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(self._tabs, self._detail_column, sizing_mode="stretch_both")
