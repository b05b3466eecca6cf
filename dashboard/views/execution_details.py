"""An execution's parameters, environment and Executor: the lower sections of the Task detail.

A v1 row carries them; a v2 execution has them in other tables, read when the
detail opens, in a worker thread so the session stays responsive, while the
sections show ``loading``.  Parameters are shown as the tree they were given
as: v1's flattened column names (``a.b``, ``x[0]``) are nested back, v2's
JSON values already are trees.
"""

from __future__ import annotations

import re
from typing import Any

import panel as pn

from dashboard.session import in_worker
from dashboard.views.detail_parts import html, kv_table, paragraph, section
from dashboard.views.templates import PARAGRAPH
from lute_model.experiment import Experiment
from lute_model.results import DescribedAnalysis, TaskRun

_NAME_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def nest_parameters(flat: dict[str, Any]) -> dict[str, Any]:
    """LUTE's flattened parameter names (``a.b``, ``x[0]``) back into nested dicts and lists.

    A name that clashes with another (a leaf where a branch also exists, which
    ``ALTER TABLE`` history can produce) is listed apart, under its flat name.
    """
    tree: dict[Any, Any] = {}
    clashes: dict[str, Any] = {}
    for name, value in flat.items():
        parts = [int(index) if index else key for key, index in _NAME_PART.findall(name)]
        if not parts or not _place(tree, parts, _json_value(value)):
            clashes[name] = _json_value(value)
    nested = _lists(tree)
    if clashes:
        nested["(clashing names)"] = clashes
    return nested


def _place(tree: dict, parts: list[Any], value: Any) -> bool:
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return False
    if parts[-1] in node:
        return False
    node[parts[-1]] = value
    return True


def _lists(node: Any) -> Any:
    """Dicts keyed 0..n-1 (from ``x[i]`` names) become lists again."""
    if not isinstance(node, dict):
        return node
    items = {key: _lists(value) for key, value in node.items()}
    indexed = all(isinstance(key, int) for key in items)
    if items and indexed and sorted(items) == list(range(len(items))):
        return [items[i] for i in range(len(items))]
    return {str(key): value for key, value in items.items()}


def _json_value(value: Any) -> Any:
    """A parameter as JSON can show it: BLOB columns hold bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    return value


class ExecutionDetailView:
    """The "Parameters" and "Environment" sections of one execution."""

    def __init__(self, experiment: Experiment, row: TaskRun) -> None:
        self.row = row
        self._experiment = experiment
        self._parameters = pn.Column(sizing_mode="stretch_width")
        self._environment = pn.Column(sizing_mode="stretch_width")
        self.sections = [section("Parameters", self._parameters),
                         section("Environment", self._environment)]
        if row.layout == "v2":
            self._parameters.loading = self._environment.loading = True
            pn.state.execute(self._load)
        else:
            self._show(DescribedAnalysis.of_v1_row(row))

    async def _load(self) -> None:
        try:
            details = await in_worker(self._experiment.details, self.row)
        except Exception as err:  # an unreadable database: say so, the rest stays
            note = paragraph("note", f"Could not read them from lute.db: {err}")
            self._parameters.objects, self._environment.objects = [note], [note.clone()]
        else:
            self._show(details)
        finally:
            self._parameters.loading = self._environment.loading = False

    def _show(self, details: DescribedAnalysis) -> None:
        tree = (details.task_parameters if self.row.layout == "v2"
                else nest_parameters(details.task_parameters))
        self._parameters.objects = [pn.pane.JSON(
            _json_safe(tree), depth=1, name="parameters", sizing_mode="stretch_width",
            margin=(0, 10), styles={"overflow-x": "auto"})] if tree else [
            paragraph("muted", "(none stored)")]
        env = kv_table(sorted(details.task_env.items()), mono=True)
        if not details.task_env:
            env = PARAGRAPH(kind="muted", text="(no environment stored for this execution)")
        pairs = [("poll interval", "–" if details.poll_interval is None
                  else f"{details.poll_interval} s"),
                 ("communicators", "; ".join(details.communicator_desc) or "–")]
        if details.executor_name:
            pairs.insert(0, ("Executor", details.executor_name))
        if details.task_version:
            pairs.append(("Task version", details.task_version))
        self._environment.objects = [html(env + kv_table(pairs))]


def _json_safe(value: Any) -> Any:
    """What the JSON pane can show: bytes (BLOB columns) as their size, everything else as is."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return _json_value(value)
