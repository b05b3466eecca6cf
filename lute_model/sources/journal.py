"""The status journal ``lute_status.jsonl``: what LUTE's Tasks say while they run.

LUTE writes ``lute.db`` only when a Task ends.  The journal, beside it, gets
one JSON line per status change, appended by the Executor hook adapter
(:mod:`lute_writers.lute_hooks`) or ``lute-dashboard emit``; the writers are
:mod:`lute_writers.journal`::

    {"time": "2026-11-25T14:03:07.512Z", "task": "FindPeaksPyAlgos", "run": "12",
     "status": "RUNNING", "message": "", "experiment": "mfxp1001123", "job": "123456"}

Writers append each line with one ``write`` on an ``O_APPEND`` descriptor, so
concurrent writers never interleave.  The reader keeps a byte offset and reads
only what was appended since; an incomplete last line waits for its newline;
a bad line becomes a problem.  A journal that shrinks or is replaced (rotated)
is read again from the start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from lute_model.problems import Problem
from lute_model.results import TaskRun
from lute_model.status import parse_status

JOURNAL_NAME = "lute_status.jsonl"
#: One read takes at most this much: a huge backlog is read over several refreshes.
READ_CHUNK = 8 * 1024 * 1024
#: A line longer than this is not an event (and is skipped without being kept whole).
MAX_LINE = 64 * 1024
MAX_FIELD = 4 * 1024
#: An event time further ahead of this server's clock than this is clock skew.
FUTURE_SLACK = timedelta(minutes=2)


def parse_time(text: str) -> datetime | None:
    """A journal or database time as an aware UTC datetime (None if unreadable)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass
class JournalDelta:
    rows: list[TaskRun] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    reset: bool = False


class JournalReader:
    """One journal, read from the last byte offset on every refresh."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._line_number = 0
        self._skipping_long_line = False

    def refresh(self) -> JournalDelta:
        """New complete lines since the last call.  Never raises for bad files."""
        delta = JournalDelta()
        try:
            # Opening (not a bare stat) makes NFS revalidate its attribute cache.
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._identity or stat.st_size < self._offset:
                    delta.reset = self._identity is not None
                    self._identity, self._offset, self._line_number = identity, 0, 0
                    self._skipping_long_line = False
                if stat.st_size == self._offset:
                    return delta
                handle.seek(self._offset)
                chunk = handle.read(READ_CHUNK)
        except FileNotFoundError:
            return delta
        except OSError as err:
            delta.problems.append(Problem(str(self.path), f"journal cannot be read: {err}."))
            return delta
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) >= MAX_LINE:  # no newline in sight: skip this monster line
                self._offset += len(chunk)
                self._skipping_long_line = True
            return delta
        for line in chunk[: end + 1].split(b"\n")[:-1]:
            self._line_number += 1
            if self._skipping_long_line:
                self._skipping_long_line = False
                delta.problems.append(self._bad("line too long"))
                continue
            self._take(line, delta)
        self._offset += end + 1
        return delta

    def _bad(self, why: str) -> Problem:
        return Problem(str(self.path), f"line {self._line_number}: {why}; skipped.")

    def _take(self, line: bytes, delta: JournalDelta) -> None:
        if not line.strip():
            return
        if len(line) > MAX_LINE:
            delta.problems.append(self._bad("line too long"))
            return
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            delta.problems.append(self._bad("not a JSON event"))
            return
        if not isinstance(event, dict):
            delta.problems.append(self._bad("not a JSON object"))
            return
        task, run, time = event.get("task"), event.get("run"), event.get("time")
        if not isinstance(task, str) or not task or run in (None, "") or not isinstance(time, str):
            delta.problems.append(self._bad("needs task, run and time"))
            return
        when = parse_time(time)
        if when is None:
            delta.problems.append(self._bad(f"unreadable time {time[:40]!r}"))
            return
        if when - datetime.now(timezone.utc) > FUTURE_SLACK:
            # A node with a fast clock: its event outranks later rows until its time comes.
            delta.problems.append(Problem(str(self.path), (
                f"line {self._line_number}: time {time[:40]} is in the future (clock skew "
                "on the writing node?); it decides its cell's status until then.")))
        message = event.get("message") or ""
        delta.rows.append(TaskRun(
            task=task[:MAX_FIELD],
            run=str(run)[:MAX_FIELD],
            status=parse_status(event.get("status")),
            timestamp=when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
            summary=str(message)[:MAX_FIELD],
            summary_size=len(str(message)),
            gen_cfg={"experiment": event.get("experiment"), "job": event.get("job"),
                     "task_timeout": _timeout(event.get("task_timeout"))},
            source=str(self.path),
            rowid=None,
        ))


def _timeout(value: Any) -> float | None:
    """An event's ``task_timeout`` in seconds, when it is a positive number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None
