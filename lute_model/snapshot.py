"""The plain-data view of an experiment that ``lute-dashboard inspect --json`` prints."""

from __future__ import annotations

from typing import Any

from lute_model.experiment import Experiment
from lute_model.problems import Problem
from lute_model.values import values_of


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    """One experiment: every execution (history, not only the latest), every page, problems.

    ``id`` is the row's id in its v1 Task table or its ``executions.id`` (v2):
    ``layout`` says which; ids of the two layouts are not comparable.
    """
    source = experiment.source
    rows = sorted(experiment.executions,
                  key=lambda r: (r.source, r.layout, r.task, r.rowid or 0))
    return {
        "name": experiment.name,
        "databases": [str(path) for path in source.databases],
        "layouts": experiment.layouts,
        "summary_dir": None if source.summary_dir is None else str(source.summary_dir),
        "tasks": [
            {
                "task": row.task,
                "run": row.run,
                "status": row.status.name,
                "timestamp": row.timestamp,
                "summary": row.summary,
                "values": values_of(row.summary),
                "impl_schemas": row.impl_schemas,
                "database": row.source,
                "id": row.rowid,
                "layout": row.layout,
                "executor": row.exec_cfg.get("name"),
                "parameter_type": row.parameter_type or None,
                "payload_bytes": row.payload.size,
            }
            for row in rows
        ],
        "pages": [
            {
                "display_name": page.display_name,
                "tab": page.tab,
                "page": page.page,
                "bytes": page.size,
                "rows": [list(cell) for cell in experiment.page_refs.get(page.display_name, [])],
            }
            for page in sorted(experiment.pages.values(), key=lambda p: p.display_name)
        ],
        "problems": [problem.as_dict() for problem in experiment.problems],
        "counts": experiment.counts,
    }


def inspect_json(experiments: list[Experiment], problems: list[Problem]) -> dict[str, Any]:
    """The whole ``--json`` document; ``problems`` are those of paths that gave no experiment."""
    return {
        "experiments": [experiment_json(e) for e in experiments],
        "problems": [p.as_dict() for p in problems],
    }
