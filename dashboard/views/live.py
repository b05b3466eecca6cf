"""What makes a session feel live: freshness, pause, the feed of status changes, alerts.

The shared Experiment publishes; these per-session pieces only watch it.
Clocks (how old the data is, how long a Task has run) tick in the browser; a
quiet experiment costs each session one small heartbeat message a second.
"""

from __future__ import annotations

import time
from typing import ClassVar

import panel as pn
import param
from markupsafe import Markup
from panel.custom import JSComponent

from dashboard.session import SessionState, subscribe
from dashboard.views.html_pane import HTML
from dashboard.views.templates import HtmlTemplate, status_css
from lute_model.experiment import Experiment
from lute_model.results import TaskRun
from lute_model.shared_cache import SharedCache
from lute_model.sources.journal import parse_time
from lute_model.status import TaskStatus
from lute_model.summary_text import first_line

#: The freshness indicator hears of a refresh at most this often (seconds).
FRESHNESS_EVERY = 1.0
#: Statuses that raise a notification when a Task reaches them.
ALARMING = (TaskStatus.FAILED, TaskStatus.TIMEDOUT)
FEED_SHOWN = 40


class Freshness(JSComponent):
    """'live · updated 2 s ago', 'paused', or 'no update for 40 s': ticks in the browser."""

    refreshed_at = param.Number(default=0.0, doc="Server time of the last refresh.")
    server_now = param.Number(default=0.0, doc="Server time when refreshed_at was sent.")
    paused = param.Boolean(default=False)
    stale_after = param.Number(default=5.0, doc="Seconds without news that mean trouble.")
    mode = param.String(default="", doc="How the server watches: inotify + polling, polling.")

    _esm = """
    export function render({ model, el }) {
      const span = document.createElement("span")
      span.className = "lute-freshness"
      let received = Date.now()
      const tick = () => {
        const lag = Math.max(0, model.server_now - model.refreshed_at)
        const age = lag + (Date.now() - received) / 1000
        const shown = age < 1.5 ? "just now" : `${Math.round(age)} s ago`
        if (model.paused) {
          span.textContent = "⏸ paused"; span.dataset.state = "paused"
        } else if (!model.refreshed_at) {
          span.textContent = "… reading"; span.dataset.state = "loading"
        } else if (age > model.stale_after) {
          span.textContent = `⚠ no update for ${Math.round(age)} s`; span.dataset.state = "stale"
        } else {
          span.textContent = `● live · updated ${shown}`; span.dataset.state = "live"
        }
        span.title = model.mode
      }
      model.on(["refreshed_at", "server_now"], () => { received = Date.now(); tick() })
      model.on(["paused", "mode"], tick)
      const timer = setInterval(tick, 1000)
      model.on("remove", () => clearInterval(timer))
      tick()
      return span
    }
    """

    _stylesheets: ClassVar[list[str]] = ["""
    .lute-freshness { font: 600 13px system-ui, sans-serif; color: #fff; white-space: nowrap; }
    .lute-freshness[data-state=live] { color: #8fe3c6; }
    .lute-freshness[data-state=stale] { color: #ffb38a; }
    .lute-freshness[data-state=paused] { color: #f0e442; }
    """]


class Elapsed(JSComponent):
    """How long since ``since`` (epoch seconds, server clock): '3 min 12 s', ticking."""

    since = param.Number(default=0.0)
    server_now = param.Number(default=0.0)

    _esm = """
    export function render({ model }) {
      const span = document.createElement("span")
      let received = Date.now()
      const tick = () => {
        const s = Math.max(0, model.server_now - model.since + (Date.now() - received) / 1000)
        const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = Math.floor(s % 60)
        span.textContent = h ? `${h} h ${m} min` : m ? `${m} min ${r} s` : `${r} s`
      }
      model.on(["since", "server_now"], () => { received = Date.now(); tick() })
      const timer = setInterval(tick, 1000)
      model.on("remove", () => clearInterval(timer))
      tick()
      return span
    }
    """


def started_at(row: TaskRun) -> float:
    """Epoch seconds of a row's time (journal or database), 0 when unreadable."""
    when = parse_time(row.timestamp)
    return when.timestamp() if when else 0.0


_FEEDS: SharedCache[str] = SharedCache()


def shared_feed_html(experiment: Experiment) -> str:
    """The feed of an experiment's current state, made once for every session.

    Fifty sessions all receive each change: the HTML (and the overdue check,
    which looks at every cell) is built once per state and second, not fifty times.
    """
    recent, latest = experiment.recent, experiment.latest
    return _FEEDS.get(experiment, (recent, latest, int(time.time())),
                      lambda _old: str(feed_html(recent, experiment.overdue())))


_FEED = HtmlTemplate(
    "{% for row, before, late, message in items %}{% if loop.first %}<ul class='feed'>{% endif %}"
    "<li><time>{{ row.timestamp[11:19] }}</time> run {{ row.run }} · {{ row.task }} "
    "{{ badge(row.status) }}{% if before %} <span class='was'>(was {{ before.name }})</span>"
    "{% endif %}{% if late %} <b class='late'>overdue</b>{% endif %}"
    "{% if message %} <span class='msg'>{{ message }}</span>{% endif %}</li>"
    "{% if loop.last %}</ul>{% endif %}{% else %}<div class='feed-empty'>No status changes "
    "yet. New ones appear here as Tasks start, run and end.</div>{% endfor %}")
_ALERT = HtmlTemplate("{{ row.status.name }}: {{ row.task }}, run {{ row.run }}")


def feed_html(recent: list, overdue: list[TaskRun]) -> Markup:
    """The latest status changes, newest first, as safe HTML."""
    late = {(r.task, r.run) for r in overdue}
    # the first line of a summary; its report paths are in the detail
    items = [(row, before, (row.task, row.run) in late,
              first_line(row.summary.split(";/", 1)[0], 110))
             for row, before in recent[:FEED_SHOWN]]
    return _FEED(items=items)


def alert_text(row: TaskRun) -> Markup:
    """A notification's message: the toast library renders it as HTML, so it is built as HTML."""
    return _ALERT(row=row)


_FEED_CSS = status_css() + """
.feed { list-style: none; margin: 0; padding: 0; font-size: 13px; max-height: 140px;
        overflow-y: auto; }
.feed li { padding: 2px 0; border-bottom: 1px solid rgba(127,127,127,.15); }
.feed time { font-family: ui-monospace, monospace; opacity: .7; margin-right: 4px; }
.feed .was, .feed .msg { opacity: .7; } .feed .late { color: var(--st-FAILED); }
.feed-empty { opacity: .7; font-size: 13px; }
"""


class LiveStatus(pn.viewable.Viewer):
    """The live parts of one session: header indicator, pause, feed, alerts, tab title."""

    experiment = param.ClassSelector(class_=Experiment)
    session = param.ClassSelector(class_=SessionState)
    mode = param.String(default="")
    poll = param.Number(default=0.5)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.freshness = Freshness(refreshed_at=self.experiment.refreshed_at,
                                   server_now=time.time(), mode=self.mode,
                                   stale_after=max(5.0, 4 * self.poll + 2 * FRESHNESS_EVERY),
                                   align="center")
        self.pause = pn.widgets.Switch(value=True, width=40, margin=(0, 4, 0, 12),
                                       align="center")
        self.pause_label = HTML(
            "<span style='color:#fff;font-size:13px' title='Turn off to hold updates back'>"
            "updates</span>", margin=(0, 8, 0, 0), align="center")
        self.pause.param.watch(self._paused, "value")
        self.feed = HTML(shared_feed_html(self.experiment),
                                 stylesheets=[_FEED_CSS], sizing_mode="stretch_width",
                                 disable_math=True)
        self._sent = 0.0
        subscribe(self.experiment, "refreshed_at", self._refreshed)
        subscribe(self.experiment, "recent", self._recent)
        subscribe(self.experiment, "latest", self._title)
        self._title()

    @property
    def header(self) -> list[pn.viewable.Viewable]:
        return [pn.layout.HSpacer(), self.freshness, self.pause, self.pause_label]

    def _paused(self, event: param.parameterized.Event) -> None:
        self.session.paused = not event.new
        self.freshness.paused = self.session.paused

    def _refreshed(self, event: param.parameterized.Event) -> None:
        now = time.time()
        if now - self._sent >= FRESHNESS_EVERY:
            self._sent = now
            self.freshness.param.update(refreshed_at=event.new, server_now=now)

    def _recent(self, event: param.parameterized.Event) -> None:
        if self.session.paused:
            return
        self.feed.object = shared_feed_html(self.experiment)
        known = {id(item) for item in (event.old or [])}
        for item in event.new:
            if id(item) in known:
                break  # the rest were there before: already announced
            row = item[0]
            if row.status in ALARMING and pn.state.notifications is not None:
                pn.state.notifications.error(str(alert_text(row)), duration=15000)

    def _title(self, *_events: object) -> None:
        """The browser tab's title counts running and failed Tasks: visible from another tab."""
        counts = self.experiment.counts
        running, failed = counts["RUNNING"], counts["FAILED"] + counts["TIMEDOUT"]
        parts = [f"▶{running}" if running else "", f"✘{failed}" if failed else ""]
        prefix = " ".join(p for p in parts if p)
        title = f"{self.experiment.name} · LUTE"
        self.session.title = f"({prefix}) {title}" if prefix else title

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(self.feed, title="Latest status changes", collapsed=False,
                       sizing_mode="stretch_width", margin=(0, 0, 8, 0))
