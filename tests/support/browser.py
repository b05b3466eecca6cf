"""Debian's chromium and what the tests read off the page.

Playwright's own browser build cannot be downloaded here; Debian's chromium is
launched with these arguments by the tests (``fixtures.py``) and the benches.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

#: The page is ready: Bokeh has rendered the session's document and has nothing pending.
READY = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"

#: The grid's cells as the browser holds them (see ``views/status_grid.py``).
GRID_CELLS_JS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  if (!fig) return [];  // not there yet: the page opened while the server still read
  const data = fig.renderers[0].data_source.data;
  return Array.from(data.task, (task, i) => ({task, run: data.run[i], y: data.y[i],
                                              status: data.status[i], color: data.color[i]}));
}"""

#: Page coordinates of the middle of one cell ([task, y]), from the figure's scales.
GRID_CELL_CENTER_JS = """([task, y]) => {
  const fig = Bokeh.documents[0].get_model_by_name('status-grid');
  const view = Bokeh.index.find_one(fig);
  const box = view.el.getBoundingClientRect();
  return {x: box.left + view.frame.x_scale.compute(task),
          y: box.top + view.frame.y_scale.compute(y)};
}"""

#: Every text of the page, shadow roots included (Bokeh renders Panel inside them).
ALL_TEXT_JS = """() => {
  const texts = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
    }
    texts.push(root.textContent || '');
  };
  walk(document);
  return texts.join('\\n');
}"""

#: Records each string message a framed report posts to the top window (``reportSaid``).
LISTEN_TO_REPORTS = """
if (window.top === window) {
  window.reportSaid = [];
  window.addEventListener("message", (event) => {
    if (typeof event.data === "string") window.reportSaid.push([event.origin, event.data]);
  });
}
"""

FRAME = "iframe[title^='Summary page']"
ACTIVE_TAB = ".bk-tab.bk-active"


def is_local(url: str) -> bool:
    """Whether a request stays on this machine (the dashboard must work offline)."""
    host = url.split("/")[2].split(":")[0] if "://" in url else ""
    return host in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:"))


def rgb(hex_color: str) -> str:
    """``#rrggbb`` as the browser's computed style writes it: ``rgb(r, g, b)``."""
    red, green, blue = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def open_dashboard(page: Any, url: str, timeout: float = 30_000) -> None:
    """Navigate and wait until Bokeh has rendered the session."""
    page.goto(url)
    page.wait_for_function(READY, timeout=timeout)


def query(page: Any) -> dict[str, str]:
    """The deep-link fields of the address bar."""
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def detail_title(page: Any, task: str, run: str) -> Any:
    """The Task detail's title for one execution."""
    return page.locator("h3.title", has_text=f"{task} · run {run}")

