"""One Task execution in full: status, configuration, summary, parameters, payload, pages.

Opened by a click in the grid or the table (``session.task`` + ``session.run``).
Everything shown here was written by analysis code, so every string goes
through a template (:mod:`dashboard.views.templates`) or a pane that escapes
(``Str``, ``JSON``); the only markup we emit ourselves is structure and status
badges.  Whole summaries and
payloads can be megabytes: they are read only when asked for, off the
session's event loop, while the section shows ``loading``.
"""

from __future__ import annotations

import time
from typing import Any

import panel as pn

from dashboard.session import in_worker, subscribe
from dashboard.views.base import SessionView
from dashboard.views.detail_parts import html, kv_table, paragraph, section
from dashboard.views.execution_details import ExecutionDetailView
from dashboard.views.live import Elapsed, started_at
from dashboard.views.report_frame import report_url
from dashboard.views.templates import NEW_TAB_LINK, HtmlTemplate
from lute_model.experiment import ExperimentChange
from lute_model.payloads import PayloadPreview, preview
from lute_model.results import TaskRun
from lute_model.runs import run_key
from lute_model.sizes import size_text
from lute_model.sources.db_common import SUMMARY_KEEP
from lute_model.status import TaskStatus
from lute_model.summary_text import first_line, report_paths, split_summary

#: Payloads above this are not loaded whole; their first PAYLOAD_PEEK bytes can be.
PAYLOAD_MAX = 50 * 1024 * 1024
PAYLOAD_PEEK = 1024 * 1024
#: Characters of a payload (or its JSON) put on screen.
PAYLOAD_SHOW = 20_000
#: "Show whole summary" shows at most this many characters: 100 MB crashed the browser tab.
SUMMARY_SHOW_MAX = 1 << 20
#: How each database layout is named in the overview.
LAYOUT_WORDS = {"v1": "lute.db, a row of its Task table (LUTE's v1 layout)",
                "v2": "lute.db, an execution (LUTE's v2 layout)"}
EMPTY_TEXT = "Click a cell in the grid or a row in the table to see a Task execution here."
_HEADER = HtmlTemplate('<h3 class="title">{{ title }}</h3>'
                       "{% if row is not none %}{{ badge(row.status) }}{% endif %}")
_STALLED = HtmlTemplate(
    "<b style='color: var(--st-FAILED)'>stalled? running longer than its task_timeout "
    "({{ timeout }} s), after which LUTE ends a Task: it may hang (e.g. paused at its start) "
    "or its end was not reported</b>")
_TRIES = HtmlTemplate(
    '<table class="kv">{% for attempt, summary, shown in items %}<tr>'
    "<td>{{ attempt.timestamp }}</td><td>{{ badge(attempt.status) }}</td>"
    "<td>{{ summary }}{% if shown %} ← shown{% endif %}</td></tr>{% endfor %}</table>")
_PRE = HtmlTemplate('<pre class="summary">{{ text }}</pre>')
_SUMMARY = HtmlTemplate(
    '{{ table }}{% for text in texts %}<pre class="summary">{{ text }}</pre>{% endfor %}')
_OUTSIDE = HtmlTemplate('<span class="mono">{{ path }}</span> <span class="note">'
                        "(not in this experiment's summary folder)</span>")
#: A page's name or link, and what is odd about it, if anything.
_NOTED = HtmlTemplate('{{ text }}{% if note %} <span class="note">{{ note }}</span>{% endif %}')

class TaskDetail(SessionView):
    """The chosen Task execution, read-only; links lead to its summary pages."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._body = pn.Column(sizing_mode="stretch_width")
        self._row: TaskRun | None = None
        self._pages = pn.Column(sizing_mode="stretch_width")
        self._reports = pn.Column(sizing_mode="stretch_width")
        self.session.param.watch(lambda *_events: self._render(), ["task", "run"])
        subscribe(self.experiment, "change", lambda event: self.apply_change(event.new))
        self._render()

    # -- what to show ----------------------------------------------------------

    def _chosen(self) -> TaskRun | None:
        if not self.session.task:
            return None
        return self.experiment.latest.get((self.session.task, run_key(self.session.run)))

    def apply_change(self, change: ExperimentChange | None) -> None:
        """Re-draw when the shown cell got a new row; only the page links when pages changed."""
        if change is None or not self.session.task:
            return
        cell = (self.session.task, run_key(self.session.run))
        if change.reset or cell in change.cells:
            self._render()
        elif (change.pages or change.removed_pages) and self._row is not None:
            self._fill_links(self._row)

    def _render(self) -> None:
        self._row = row = self._chosen()
        if not self.session.task:
            self._body.objects = [paragraph("muted", EMPTY_TEXT)]
            return
        if row is None:
            self._body.objects = [self._header(None), paragraph(
                "", f"No execution of {self.session.task} for run {self.session.run} "
                "in this experiment.")]
            return
        self._fill_links(row)
        self._body.objects = [
            self._header(row), self._live(row), self._overview(row), self._history(row),
            self._summary(row),
            section("Summary pages of this run", self._pages),
            *ExecutionDetailView(self.experiment, row).sections, self._payload(row),
        ]

    # -- sections ----------------------------------------------------------------

    def _header(self, row: TaskRun | None) -> pn.Row:
        title = f"{self.session.task} · run {self.session.run}"
        close = pn.widgets.Button(label="✕ Close", color="light", width=90,
                                  description="Close this detail")
        close.on_click(lambda _event: self.session.param.update(task="", run=""))
        return pn.Row(html(_HEADER(title=title, row=row)), pn.layout.HSpacer(),
                      close, sizing_mode="stretch_width")

    def _live(self, row: TaskRun) -> pn.viewable.Viewable:
        """For a status the journal gives (no database row yet): since when, and if overdue."""
        if row.rowid is not None:
            return pn.Column()
        since = f"{row.status.name.lower()} since {row.timestamp[:19]} UTC — reported live by "
        parts: list[Any] = [paragraph("note", f"{since}the status journal; the database row "
                                      "comes when the Task ends.")]
        if row.status is TaskStatus.RUNNING:
            timeout = self.experiment.timeout_of(row)
            late = row in self.experiment.overdue()
            clock = Elapsed(since=started_at(row), server_now=time.time())
            warning = _STALLED(timeout=format(timeout, "g")) if late else ""
            parts.append(pn.Row(html("running for"), clock, html(warning), margin=(0, 10)))
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _overview(self, row: TaskRun) -> pn.pane.HTML:
        gen = row.gen_cfg
        timeout = gen.get("task_timeout")
        pairs = [("finished (UTC)" if row.rowid is not None else "reported (UTC)",
                  row.timestamp or "–"),
                 ("experiment", gen.get("experiment", "–")), ("run", row.run),
                 ("configuration", gen.get("title", "–")), ("date", gen.get("date", "–")),
                 ("LUTE version", gen.get("lute_version", "–")),
                 ("Task timeout", "–" if timeout is None else f"{timeout} s"),
                 ("implements", row.impl_schemas or "–"),
                 ("stored as", LAYOUT_WORDS.get(row.layout, "the status journal"))]
        if row.parameter_type:
            pairs.append(("parameters type", row.parameter_type))
        return html(kv_table(pairs))

    def _history(self, row: TaskRun) -> pn.Column:
        tries = self.experiment.history(row.task, row.run_key)
        if len(tries) < 2:
            return pn.Column()
        items = [(t, first_line(t.summary, 80), t is row) for t in tries]
        return section(f"Tries ({len(tries)})", html(_TRIES(items=items)))

    def _summary(self, row: TaskRun) -> pn.Column:
        content = pn.Column(self._summary_pane(row.summary), sizing_mode="stretch_width")
        parts: list[Any] = [content]
        if row.summary_size > SUMMARY_KEEP:
            label = (f"Show whole summary ({size_text(row.summary_size)})"
                     if row.summary_size <= SUMMARY_SHOW_MAX else
                     f"Show its first {size_text(SUMMARY_SHOW_MAX, exact=False)} "
                     f"(of {size_text(row.summary_size)})")
            more = pn.widgets.Button(label=label, color="default", width=320)
            async def show_whole(_event: Any) -> None:
                await self._load_whole_summary(row, content, more)

            more.on_click(show_whole)
            parts = [paragraph("note", f"Summary cut at {size_text(SUMMARY_KEEP)} of "
                                       f"{size_text(row.summary_size)}."), more, *parts]
        return section("Summary", *parts, self._reports)

    def _summary_pane(self, text: str) -> pn.pane.HTML:
        """``key: value`` pairs as a table, other text in a ``<pre>``; report paths go elsewhere."""
        if not text.strip():
            return paragraph("muted", "(no summary)")
        items = split_summary(text)
        pairs = [(item.key, item.value) for item in items if item.kind == "pair"]
        texts = [item.value.strip() for item in items if item.kind == "text"]
        if not pairs and not texts:
            return paragraph("muted", "(only report paths)")
        return html(_SUMMARY(table=kv_table(pairs) if pairs else "", texts=texts))

    async def _load_whole_summary(self, row: TaskRun, content: pn.Column,
                                  button: pn.widgets.Button) -> None:
        content.loading = True
        try:
            whole = await self._read(row, "result.summary", SUMMARY_SHOW_MAX)
            content.objects = [self._summary_pane("" if whole is None else str(whole))]
            if row.summary_size > SUMMARY_SHOW_MAX:
                shown = size_text(SUMMARY_SHOW_MAX, exact=False)
                content.objects = [paragraph(
                    "note", f"This summary is {size_text(row.summary_size)}: only its "
                    f"first {shown} is shown."), *content.objects]
            button.visible = False
        except Exception as err:  # unreadable database: say so, keep the cut summary
            content.objects = [*content.objects, paragraph(
                "note", f"Could not read the whole summary: {err}")]
        finally:
            content.loading = False

    async def _read(self, row: TaskRun, column: str, limit: int | None = None) -> Any:
        """One stored value, read in a worker thread so the session stays responsive."""
        reader = self.experiment.reader_for(row)
        if reader is None or row.rowid is None:
            raise LookupError("this execution has no database row to read from")
        return await in_worker(reader.read_value, row.task, row.rowid, column, limit,
                               row.layout)

    def _fill_links(self, row: TaskRun) -> None:
        """Report links of the row's summary and payload, and the pages of its run."""
        paths = report_paths(row.summary, row.payload.text)
        self._reports.objects = ([section("Reports named by this execution")]
                                 + [self._report_link(path) for path in paths]) if paths else []
        named = {self.experiment.display_name_for(p) for p in paths} - {None}
        pages = [name for name, page in self.experiment.pages.items()
                 if page.run == row.run_key or name in named]
        self._pages.objects = [self._page_link(name) for name in sorted(pages)] or [
            paragraph("muted", "No summary pages for this run.")]

    def _report_link(self, path: str) -> pn.Row:
        name = self.experiment.display_name_for(path)
        if name is None:
            return pn.Row(html(_OUTSIDE(path=path)))
        return self._page_link(name, label=path)

    def _page_link(self, name: str, label: str | None = None) -> pn.Row:
        """A page as a link to our served copy and a button into the summary browser."""
        page = self.experiment.pages.get(name)
        text = label or name
        if page is None:
            return pn.Row(html(_NOTED(text=text, note="(page not found)")))
        url = report_url(self.session.prefix, self.experiment.name, name)
        link = html(_NOTED(text=NEW_TAB_LINK(url=url, text=text),
                           note="(empty page)" if page.empty else None),
                    margin=(4, 10), sizing_mode="stretch_width")
        browse = pn.widgets.Button(label="open in summary browser", color="primary",
                                   variant="outline", width=190, height=30,
                                   margin=(0, 10, 6, 10))
        browse.on_click(lambda _event: self.session.param.update(view="summary", page=name))
        return pn.Column(link, browse, sizing_mode="stretch_width")

    def _payload(self, row: TaskRun) -> pn.Column:
        size = row.payload.size
        if size == 0:
            return section("Payload", paragraph("muted", "(no payload)"))
        result = pn.Column(sizing_mode="stretch_width")
        too_big = size > PAYLOAD_MAX
        label = (f"Load the first {size_text(PAYLOAD_PEEK)} only" if too_big
                 else f"Load payload ({size:,} bytes)")
        load = pn.widgets.Button(label=label, color="primary", width=300)
        async def load_payload(_event: Any) -> None:
            await self._load_payload(row, result, load, too_big)

        load.on_click(load_payload)
        intro = f"{row.payload.kind}, {size_text(size)}."
        if too_big:
            intro += (" Too large to load here whole (over "
                      f"{size_text(PAYLOAD_MAX, exact=False)}); you can look at its beginning.")
        return section("Payload", paragraph("", intro), load, result)

    async def _load_payload(self, row: TaskRun, result: pn.Column, button: pn.widgets.Button,
                            peek: bool) -> None:
        button.disabled = result.loading = True
        try:
            value = await self._read(row, "result.payload", PAYLOAD_PEEK if peek else None)
            shown = preview(value, row.payload.kind, PAYLOAD_SHOW, size=row.payload.size)
            result.objects = self._payload_panes(shown)
            button.visible = False
        except Exception as err:  # unreadable database: say so and let them try again
            result.objects = [paragraph("note", f"Could not read the payload: {err}")]
            button.disabled = False
        finally:
            result.loading = False

    def _payload_panes(self, shown: PayloadPreview) -> list[Any]:
        panes: list[Any] = [paragraph("muted", shown.note)] if shown.note else []
        if shown.array is not None:
            a = shown.array
            pairs = [("values (float64)", f"{a.count:,}"),
                     ("finite", f"{a.finite:,}"),
                     ("min", "–" if a.minimum is None else f"{a.minimum:.6g}"),
                     ("max", "–" if a.maximum is None else f"{a.maximum:.6g}"),
                     ("mean", "–" if a.mean is None else f"{a.mean:.6g}"),
                     ("first values", ", ".join(f"{v:.6g}" for v in a.first))]
            panes.append(html(kv_table(pairs), css_classes=["payload-array"]))
        elif shown.json is not None:
            panes.append(html(_PRE(text=shown.json)))
        elif shown.text:
            cut = "\n…" if shown.truncated else ""
            panes.append(html(_PRE(text=shown.text + cut)))
        panes.extend(self._report_link(path) for path in shown.reports)
        return panes

    def __panel__(self) -> pn.viewable.Viewable:
        return self._body
