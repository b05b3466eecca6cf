"""Read LUTE's ``lute.db`` read-only and incrementally, in either of LUTE's layouts.

LUTE's Executor appends one execution when a Task ends and never changes it
afterwards, so after the first read only what has a larger id than the last
one seen needs reading.  Which layout a file holds is decided per file, and a
file may hold both (an experiment that spans a LUTE upgrade): the per-Task
tables of ``lute/io/db.py`` (:mod:`.lutedb_v1`) and the normalized tables of
the v0.2 specification (:mod:`.lutedb_v2`).

The file may sit on a network file system and another process may be writing
it: the reader opens it with ``mode=ro``, asks SQLite (``PRAGMA data_version``)
whether anything was committed since the last look, waits briefly for a
writer's lock and, when the database cannot be read, keeps the last good state
and says why.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from lute_model.problems import Problem
from lute_model.results import DescribedAnalysis, TaskRun
from lute_model.sources.db_common import SUMMARY_KEEP, decode_text, quote
from lute_model.sources.lutedb_v1 import V1Tables
from lute_model.sources.lutedb_v2 import V2Executions

__all__ = ["LAYOUT_NAMES", "SUMMARY_KEEP", "DbDelta", "LuteDbReader"]

SQLITE_MAGIC = b"SQLite format 3\x00"
#: The identity of a file that was read before and is now gone or unreadable.
_NO_FILE = (-1, -1)
#: How each layout is named to a person.
LAYOUT_NAMES = {"v1": "LUTE's v1 layout (one table per Task)",
                "v2": "LUTE's v2 layout (executions, results, config, ...)"}
#: Unknown tables named in one problem, at most.
_NAMED_AT_MOST = 5


@dataclass
class DbDelta:
    """What one refresh found: new rows, and whether the old ones still stand."""

    rows: list[TaskRun] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: True when the file was replaced and every row was read again: drop the old ones.
    reset: bool = False
    #: False when the database could not be read this time (busy, corrupt, gone).
    ok: bool = True
    #: The Tasks with a v1 table (v2 Tasks appear as rows only).
    tables: list[str] = field(default_factory=list)
    #: The layouts the file holds: "v1", "v2", both, or none.
    layouts: list[str] = field(default_factory=list)


class LuteDbReader:
    """One ``lute.db``, read incrementally by rowid.  Opens the file read-only."""

    def __init__(self, path: str | os.PathLike, busy_timeout: float = 1.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._con: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._data_version: int | None = None
        self._schema_version: int | None = None
        self._v1 = V1Tables(str(self.path))
        self._v2 = V2Executions(str(self.path))
        self._schema_problems: list[Problem] = []

    @property
    def layouts(self) -> list[str]:
        """The layouts the file held at the last good read."""
        return [part.layout for part in (self._v1, self._v2) if part.present]

    # -- opening -------------------------------------------------------------

    def _problem(self, message: str) -> Problem:
        return Problem(str(self.path), message)

    def _check_file(self) -> Problem | None:
        """Why the file cannot be a database, before SQLite is asked."""
        try:
            with open(self.path, "rb") as handle:  # open() revalidates NFS attributes
                header = handle.read(len(SQLITE_MAGIC))
        except FileNotFoundError:
            return self._problem("lute.db is missing: no Task results to show from it yet.")
        except IsADirectoryError:
            return self._problem("lute.db is a folder, not a database file.")
        except OSError as err:
            return self._problem(f"lute.db cannot be opened: {err.strerror or err}.")
        if not header:
            return self._problem("lute.db is empty (0 bytes): LUTE has not stored a Task yet.")
        if header != SQLITE_MAGIC:
            return self._problem("lute.db is not an SQLite database (wrong file header).")
        return None

    def _connect(self) -> sqlite3.Connection:
        uri = f"file:{url_quote(str(self.path.resolve()))}?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout,
                              isolation_level=None, check_same_thread=False)
        con.text_factory = decode_text
        return con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        # data_version is only comparable within one connection: the next one must look.
        self._data_version = None

    def _forget(self) -> None:
        self.close()
        self._data_version = self._schema_version = None
        self._v1 = V1Tables(str(self.path))
        self._v2 = V2Executions(str(self.path))

    def _forget_all_read(self) -> None:
        """Forget every row read: the next good read starts over and says so (``reset``),
        even when the file comes back with the same inode (renamed away and back, or a
        new file that reused the number); else its rows would be added a second time."""
        self._forget()
        if self._identity is not None:
            self._identity = _NO_FILE

    # -- refreshing ----------------------------------------------------------

    def refresh(self) -> DbDelta:
        """Read what was added since the last call.  Never raises for bad files."""
        bad = self._check_file()
        if bad is not None:
            self._forget_all_read()
            return DbDelta(problems=[bad], ok=False)
        stat = self.path.stat()
        identity = (stat.st_dev, stat.st_ino)
        reset = False
        if identity != self._identity:
            reset = self._identity is not None
            self._forget()
            self._identity = identity
        try:
            if self._con is None:
                self._con = self._connect()
            delta = self._read_new(reset)
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                message = ("lute.db is busy (locked by a writer for over "
                           f"{self.busy_timeout:g} s); "
                           "showing the last state read, will retry.")
            elif "readonly" in str(err) and Path(f"{self.path}-journal").exists():
                # A writer died mid-transaction: only a writer may roll its journal back.
                self.close()
                message = ("lute.db has an unfinished write (a lute.db-journal left by a "
                           "writer that stopped mid-transaction), which this read-only "
                           "dashboard may not roll back; the next write to lute.db will. "
                           "Showing the last state read, will retry.")
            else:
                message = f"lute.db could not be read ({err}); showing the last state read."
            return DbDelta(problems=[self._problem(message)], ok=False)
        except sqlite3.DatabaseError as err:
            self._forget_all_read()
            return DbDelta(problems=[self._problem(
                f"lute.db is damaged ({err}); showing the last state read.")], ok=False)
        return delta

    def _read_new(self, reset: bool) -> DbDelta:
        con = self._con
        assert con is not None
        data_version = con.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return self._delta(problems=list(self._schema_problems))
        con.execute("BEGIN")
        try:
            schema_version = con.execute("PRAGMA schema_version").fetchone()[0]
            if schema_version != self._schema_version:
                self._load_schemas()
                self._schema_version = schema_version
            delta = self._delta(reset=reset)
            found: list[str] = []
            for part in (self._v1, self._v2):
                part.read_new(con, delta.rows, found)
            delta.problems += [self._problem(message) for message in found]
        finally:
            con.execute("COMMIT")
        self._data_version = data_version
        delta.problems[:0] = self._schema_problems
        return delta

    def _delta(self, **fields: Any) -> DbDelta:
        return DbDelta(tables=sorted(self._v1.tables), layouts=self.layouts, **fields)

    def _load_schemas(self) -> None:
        """Which layouts the file holds, and what is odd about its tables."""
        con = self._con
        assert con is not None
        columns = _columns(con)
        names = list(columns)
        messages = self._v1.load_schema(columns) + self._v2.load_schema(columns)
        strangers = sorted(set(names) - self._v1.claims(columns) - self._v2.claims(columns))
        if strangers and not self.layouts:
            shown = ", ".join(repr(n) for n in strangers[:_NAMED_AT_MOST])
            more = f" and {len(strangers) - _NAMED_AT_MOST} more" if len(strangers) > \
                _NAMED_AT_MOST else ""
            messages.insert(0, (
                "lute.db holds no LUTE results in a layout we know: neither Task tables with "
                "a 'result.task_status' column (LUTE's v1 layout) nor an 'executions' table "
                f"(its v2 layout); its tables are {shown}{more}."))
        elif not self._v2.present:
            # Beside v2 tables, a table we do not know is most likely a newer LUTE's: quiet.
            messages += [f"table {name!r} is not a LUTE Task table (no 'result.task_status' "
                         "column) nor a table of LUTE's v2 layout; skipped." for name in strangers]
        self._schema_problems = [self._problem(message) for message in messages]

    # -- on request ----------------------------------------------------------

    def read_value(self, task: str, rowid: int, field: str, limit: int | None = None,
                   layout: str = "v1") -> Any:
        """One stored value, a whole ``"summary"`` or ``"payload"``, read only when asked for.

        ``limit`` bytes at most (a preview); raises ``KeyError`` for an unknown
        table, field or row, and ``sqlite3`` errors when the file is unreadable.
        """
        con = self._connect()
        try:
            part = self._v2_of(con) if layout == "v2" else self._v1
            return part.read_value(con, task, rowid, field.removeprefix("result."), limit)
        finally:
            con.close()

    def details(self, row: TaskRun) -> DescribedAnalysis:
        """Parameters, environment and Executor of a row: kept in a v1 row, read for v2."""
        if row.layout != "v2":
            return DescribedAnalysis.of_v1_row(row)
        con = self._connect()
        try:
            return self._v2_of(con).details(con, row)
        finally:
            con.close()

    def _v2_of(self, con: sqlite3.Connection) -> V2Executions:
        """The v2 tables as last read, or as they are now when the reader has not seen them
        (a reader not refreshed yet, or one that starts over): never changes the reader."""
        if self._v2.present:
            return self._v2
        fresh = V2Executions(str(self.path))
        fresh.load_schema(_columns(con))
        return fresh


def _columns(con: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table of the file (SQLite's own left out) with its column names."""
    names = [row[0] for row in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: [row[1] for row in con.execute(f"PRAGMA table_info({quote(name)})")]
            for name in names}
