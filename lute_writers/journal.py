"""Appending to the status journal ``lute_status.jsonl``: the one writer of its lines.

The Executor hook, ``lute-dashboard emit``, the launcher and the demo all append
through :func:`append_event`, so every line has the shape the reader
(:mod:`lute_model.sources.journal`) expects, and each line is one ``write`` on an
``O_APPEND`` descriptor: concurrent writers never interleave.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from lute_model.sources.journal import JOURNAL_NAME
from lute_model.status import TaskStatus, UnknownStatus, parse_status

__all__ = ["JOURNAL_NAME", "append_event", "event_line", "utc_now"]


def utc_now() -> str:
    """Now, as the journal writes times: ISO-8601 UTC with milliseconds and a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_line(*, task: str, run: str, status: TaskStatus | str, message: str = "",
               experiment: str | None = None, job: str | None = None,
               time: str | None = None, task_timeout: float | None = None) -> bytes:
    """One journal line, validated: what every writer appends."""
    parsed = parse_status(status)
    if isinstance(parsed, UnknownStatus):
        raise ValueError(f"not a TaskStatus: {status!r}")
    if not task or not str(run):
        raise ValueError("an event needs a task and a run")
    event: dict[str, Any] = {"time": time or utc_now(), "task": task, "run": str(run),
                             "status": parsed.name}
    if message:
        event["message"] = message
    if experiment:
        event["experiment"] = experiment
    if job:
        event["job"] = job
    if isinstance(task_timeout, (int, float)) and task_timeout > 0:
        event["task_timeout"] = task_timeout  # lets a reader tell a stalled RUNNING
    return (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")


def append_event(journal: str | os.PathLike, **event: Any) -> None:
    """Append one event with a single write (atomic between concurrent appenders)."""
    line = event_line(**event)
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o664)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
