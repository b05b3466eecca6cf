"""The experiment picker: shown when a server watches several experiments.

A hutch's folder holds hundreds of experiments, most of them finished
beamtimes: the ones with recent activity come first, a search box narrows the
list as one types, and each experiment is one line of a table.  The list is a
single component that draws its rows in the browser (a card of three Panel
components per experiment made the picker of 100 experiments three times
slower to open than an empty page), and the search filters there too, without a
round trip to the server.

Names from disk reach the page only as text (``textContent``), never as HTML.
A click on a name opens the experiment in this session; the name is also a real
link (``?exp=NAME``), so a middle-click opens it in a new tab and the link can
be copied.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar
from urllib.parse import urlencode

import panel as pn
import param
from panel.custom import JSComponent

from dashboard.registry import Registry
from dashboard.session import SessionState, subscribe
from dashboard.views.templates import status_css, visible
from dashboard.views.url_state import URL_ERRORS
from lute_model.experiment import Experiment
from lute_model.status import ALL_STATUSES, SYMBOL

#: Rows drawn at most; the search reaches every experiment.
SHOWN = 100


def picker_row(key: int, experiment: Experiment, activity: float) -> dict[str, Any]:
    """What one line of the picker shows of an experiment (plain data, drawn as text)."""
    runs = experiment.runs
    counts = experiment.counts
    return {
        "key": key,
        "name": visible(experiment.name),
        "href": "?" + urlencode({"exp": experiment.name}, errors=URL_ERRORS),
        "runs": len(runs),
        "span": f"{visible(str(runs[-1]))} … {visible(str(runs[0]))}" if runs else "",
        "pages": len(experiment.pages),
        "problems": len(experiment.problems),
        "statuses": [[s.name, SYMBOL[s], counts[s.name]] for s in ALL_STATUSES
                     if counts.get(s.name)],
        "activity": activity,
    }


def picker_rows(registry: Registry) -> list[dict[str, Any]]:
    """Every experiment's line, the most recently active first (then by name)."""
    activity = registry.activity
    rows = [picker_row(key, experiment, activity.get(name, 0.0))
            for key, (name, experiment) in enumerate(registry.experiments.items())]
    rows.sort(key=lambda row: (-row["activity"], row["name"]))
    return rows


class ExperimentList(JSComponent):
    """The search box and the table of experiments, drawn and filtered in the browser."""

    rows = param.List(default=[], doc="picker_row() of every experiment, in the order shown.")
    server_now = param.Number(default=0.0, doc="Server time when rows were sent (for ages).")
    shown = param.Integer(default=SHOWN, doc="Rows drawn at most.")

    _esm = """
    const AGO = [[86400 * 365, "y"], [86400 * 30, "mo"], [86400, "d"], [3600, "h"], [60, "min"]];
    function ago(seconds) {
      if (seconds < 60) return "just now";
      for (const [size, unit] of AGO) {
        if (seconds >= size) return `${Math.floor(seconds / size)} ${unit} ago`;
      }
    }
    function cell(tr, text, cls) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
      return td;
    }
    export function render({ model, el }) {
      const box = document.createElement("div");
      box.className = "lute-picker";
      const bar = document.createElement("div");
      bar.className = "bar";
      const search = document.createElement("input");
      search.type = "search";
      search.placeholder = "Search experiments…";
      search.setAttribute("aria-label", "Search experiments");
      const count = document.createElement("span");
      count.className = "count";
      bar.append(search, count);
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      for (const [title, cls] of [["Experiment"], ["Last activity"], ["Runs"],
                                  ["Summary pages", "num"], ["Problems", "num"],
                                  ["Task statuses"]]) {
        const th = document.createElement("th");
        th.textContent = title;
        if (cls) th.className = cls;
        head.appendChild(th);
      }
      const body = table.createTBody();
      box.append(bar, table);
      let received = Date.now();
      const draw = () => {
        const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
        const now = model.server_now + (Date.now() - received) / 1000;
        const matching = model.rows.filter(
          (row) => words.every((word) => row.name.toLowerCase().includes(word)));
        const rows = [];
        for (const row of matching.slice(0, model.shown)) {
          const tr = document.createElement("tr");
          tr.className = "lute-experiment";
          const name = document.createElement("a");
          name.href = row.href;
          name.textContent = row.name;
          name.addEventListener("click", (event) => {
            if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
            event.preventDefault();
            model.send_msg({ open: row.key });
          });
          cell(tr, "", "name").appendChild(name);
          const age = row.activity ? now - row.activity : null;
          const when = cell(tr, age === null ? "–" : ago(age), "when");
          if (age !== null && age < 3600) when.classList.add("recent");
          if (row.activity) when.title = new Date(row.activity * 1000).toLocaleString();
          cell(tr, row.runs ? `${row.span} (${row.runs})` : "no runs yet", "runs");
          cell(tr, String(row.pages), "num");
          cell(tr, String(row.problems), row.problems ? "num bad" : "num");
          const statuses = cell(tr, "", "statuses");
          for (const [status, symbol, n] of row.statuses) {
            const badge = document.createElement("span");
            badge.className = `st st-${status}`;
            badge.textContent = `${symbol} ${status} ${n}`;
            statuses.appendChild(badge);
          }
          rows.push(tr);
        }
        body.replaceChildren(...rows);
        const total = model.rows.length;
        let text = `${total} experiments`;
        if (words.length) text = `${matching.length} of ${total} experiments match`;
        if (matching.length > model.shown) {
          text += ` · the first ${model.shown} shown: type to narrow`;
        }
        count.textContent = text;
      };
      search.addEventListener("input", draw);
      model.on(["rows", "server_now"], () => { received = Date.now(); draw(); });
      model.on("shown", draw);
      draw();
      return box;
    }
    """

    _stylesheets: ClassVar[list[str]] = [status_css() + """
    .lute-picker { font: 14px system-ui, sans-serif; margin: 4px 10px; }
    .lute-picker .bar { display: flex; gap: 12px; align-items: center; margin: 4px 0 8px 0; }
    .lute-picker input { font: inherit; padding: 5px 8px; width: 280px; border-radius: 6px;
                         border: 1px solid rgba(127, 127, 127, 0.5); }
    .lute-picker .count { opacity: 0.75; }
    .lute-picker table { border-collapse: collapse; width: 100%; }
    .lute-picker th { text-align: left; font-weight: 600; opacity: 0.75; padding: 2px 8px;
                      border-bottom: 1px solid rgba(127, 127, 127, 0.4); white-space: nowrap; }
    .lute-picker td { padding: 3px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.15);
                      white-space: nowrap; }
    .lute-picker tr:hover td { background: rgba(127, 127, 127, 0.08); }
    .lute-picker .name a { font-weight: 600; }
    .lute-picker .when.recent { color: var(--st-COMPLETED); font-weight: 600; }
    .lute-picker .num { text-align: right; opacity: 0.8; }
    .lute-picker .num.bad { color: var(--st-FAILED); opacity: 1; }
    .lute-picker .statuses { white-space: normal; }
    .lute-picker .st { margin: 1px 4px 1px 0; font-size: 0.8em; }
    """]


class ExperimentPicker(pn.viewable.Viewer):
    """Every experiment of the server on one line each; a click opens one."""

    registry = param.ClassSelector(class_=Registry)
    session = param.ClassSelector(class_=SessionState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._list = ExperimentList(rows=picker_rows(self.registry), server_now=time.time(),
                                    sizing_mode="stretch_width")
        self._list.on_msg(self._clicked)
        # The order follows activity; the registry says so at most every few seconds.
        subscribe(self.registry, "activity", self._refresh)

    def _refresh(self, *_events: object) -> None:
        self._list.param.update(rows=picker_rows(self.registry), server_now=time.time())

    def _clicked(self, event: Any) -> None:
        """``{open: key}`` from the browser: ``key`` is the experiment's place in the registry
        (a name can hold what a URL or JSON would mangle; the place cannot)."""
        names = list(self.registry.experiments)
        message = getattr(event, "data", None)
        key = message.get("open") if isinstance(message, dict) else None
        if isinstance(key, int) and 0 <= key < len(names):
            self.session.param.update(experiment=names[key], view="overview", task="", run="",
                                      page="")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._list
