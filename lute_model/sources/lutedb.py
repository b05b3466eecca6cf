"""Read LUTE's ``lute.db`` read-only and incrementally.

LUTE's Executor appends one row per Task execution to a table named after the
Task and never updates a row afterwards, so after the first read only rows
with a larger id than the last one seen need reading.  The file may sit on a
network file system and another process may be writing it: the reader opens
it with ``mode=ro``, asks SQLite (``PRAGMA data_version``) whether anything was
committed since the last look, waits briefly for a writer's lock and, when the
database cannot be read, keeps the last good state and says why.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lute_model.problems import Problem
from lute_model.results import PayloadInfo, TaskRun
from lute_model.status import UnknownStatus, parse_status

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Columns every LUTE Task table has besides the flattened parameters.
RESULT_COLUMNS = ("result.task_status", "result.summary", "result.payload", "result.impl_schemas")
FIXED_COLUMNS = frozenset({"id", "timestamp", "gen_cfg_id", "exec_cfg_id", "valid_flag",
                           *RESULT_COLUMNS})
SHARED_TABLES = frozenset({"gen_cfg", "exec_cfg"})
#: The identity of a file that was read before and is now gone or unreadable.
_NO_FILE = (-1, -1)

#: Summaries are free text that can be megabytes long; the state keeps this
#: much of each (the whole is read on request).
SUMMARY_KEEP = 16 * 1024
#: Short text payloads are kept: some Tasks put their report path there.
PAYLOAD_TEXT_KEEP = 4 * 1024
#: A parameter value longer than this is kept as its first characters only.
PARAMETER_KEEP = 2 * 1024


def _text(value: Any) -> str:
    """A stored value as text (summaries are TEXT, but a writer may have stored anything)."""
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class TableSchema:
    """What we know of one Task table's columns."""

    name: str
    columns: list[str]
    has_id: bool

    @property
    def parameter_columns(self) -> list[str]:
        return [c for c in self.columns if c not in FIXED_COLUMNS]

    def select_sql(self) -> str:
        """One SELECT for new rows; columns a table lacks come back as NULL."""
        have = set(self.columns)

        def col(name: str, expr: str | None = None) -> str:
            return (expr or _q(name)) if name in have else "NULL"

        summary = _q("result.summary")
        payload = _q("result.payload")
        rowid = "id" if self.has_id else "rowid"
        fields = [
            rowid,
            col("timestamp"),
            col("gen_cfg_id"),
            col("exec_cfg_id"),
            col("result.task_status"),
            col("result.summary", f"substr({summary}, 1, {SUMMARY_KEEP})"),
            col("result.summary", f"length({summary})"),
            col("result.payload", f"typeof({payload})"),
            col("result.payload", f"length({payload})"),
            col("result.payload", f"CASE WHEN typeof({payload}) = 'text' AND length({payload}) "
                                  f"<= {PAYLOAD_TEXT_KEEP} THEN {payload} END"),
            col("result.impl_schemas"),
            col("valid_flag"),
        ]
        fields += [
            f"CASE WHEN length({_q(c)}) > {PARAMETER_KEEP} "
            f"THEN substr({_q(c)}, 1, {PARAMETER_KEEP}) ELSE {_q(c)} END"
            for c in self.parameter_columns
        ]
        return f"SELECT {', '.join(fields)} FROM {_q(self.name)} WHERE {rowid} > ? ORDER BY {rowid}"


@dataclass
class DbDelta:
    """What one refresh found: new rows, and whether the old ones still stand."""

    rows: list[TaskRun] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: True when the file was replaced and every row was read again: drop the old ones.
    reset: bool = False
    #: False when the database could not be read this time (busy, corrupt, gone).
    ok: bool = True
    tables: list[str] = field(default_factory=list)


class LuteDbReader:
    """One ``lute.db``, read incrementally by rowid.  Opens the file read-only."""

    def __init__(self, path: str | os.PathLike, busy_timeout: float = 1.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._con: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._data_version: int | None = None
        self._schema_version: int | None = None
        self._schemas: dict[str, TableSchema] = {}
        self._last_id: dict[str, int] = {}
        self._gen_cfg: dict[int, dict[str, Any]] = {}
        self._exec_cfg: dict[int, dict[str, Any]] = {}
        self._schema_problems: list[Problem] = []

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
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout,
                              isolation_level=None, check_same_thread=False)
        con.text_factory = lambda data: data.decode("utf-8", errors="replace")
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
        self._schemas.clear()
        self._last_id.clear()
        self._gen_cfg.clear()
        self._exec_cfg.clear()

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
            return DbDelta(problems=list(self._schema_problems), tables=sorted(self._schemas))
        con.execute("BEGIN")
        try:
            schema_version = con.execute("PRAGMA schema_version").fetchone()[0]
            if schema_version != self._schema_version:
                self._load_schemas()
                self._schema_version = schema_version
            self._read_shared("gen_cfg", self._gen_cfg)
            self._read_shared("exec_cfg", self._exec_cfg)
            delta = DbDelta(reset=reset, tables=sorted(self._schemas))
            for schema in self._schemas.values():
                self._read_table(schema, delta)
        finally:
            con.execute("COMMIT")
        self._data_version = data_version
        delta.problems[:0] = self._schema_problems
        return delta

    def _load_schemas(self) -> None:
        con = self._con
        assert con is not None
        self._schema_problems = []
        names = [row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        schemas: dict[str, TableSchema] = {}
        for name in names:
            if name in SHARED_TABLES:
                continue
            info = con.execute(f"PRAGMA table_info({_q(name)})").fetchall()
            columns = [row[1] for row in info]
            if "result.task_status" not in columns:
                self._schema_problems.append(self._problem(
                    f"table {name!r} is not a LUTE Task table (no 'result.task_status' column);"
                    " skipped."))
                continue
            missing = [c for c in ("gen_cfg_id", *RESULT_COLUMNS[1:]) if c not in columns]
            if missing:
                self._schema_problems.append(self._problem(
                    f"Task table {name!r} lacks column(s) {', '.join(missing)}; shown as empty."))
            schemas[name] = TableSchema(name, columns, has_id="id" in columns)
        for name in SHARED_TABLES - set(names):
            if schemas:
                self._schema_problems.append(self._problem(
                    f"table {name!r} is missing: runs and environments cannot be shown."))
        self._schemas = schemas

    def _read_shared(self, table: str, into: dict[int, dict[str, Any]]) -> None:
        if table in SHARED_TABLES and not self._table_exists(table):
            return
        since = max(into, default=0)
        cursor = self._con.execute(f"SELECT * FROM {table} WHERE id > ? ORDER BY id", (since,))
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row, strict=False))
            into[record["id"]] = record

    def _table_exists(self, table: str) -> bool:
        return self._con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone() is not None

    def _read_table(self, schema: TableSchema, delta: DbDelta) -> None:
        since = self._last_id.get(schema.name, 0)
        try:
            rows = self._con.execute(schema.select_sql(), (since,)).fetchall()
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
                raise
            delta.problems.append(self._problem(
                f"Task table {schema.name!r} could not be read ({err}); its rows are not shown."))
            return
        params = schema.parameter_columns
        unknown = 0
        for row in rows:
            run = self._run_row(schema.name, row, params, delta)
            unknown += isinstance(run.status, UnknownStatus)
            delta.rows.append(run)
        if rows:
            self._last_id[schema.name] = rows[-1][0]
        if unknown:
            delta.problems.append(self._problem(
                f"{unknown} new row(s) of {schema.name!r} have a status that is not a TaskStatus;"
                " shown as UNKNOWN."))

    def _run_row(self, task: str, row: tuple, params: list[str], delta: DbDelta) -> TaskRun:
        (rowid, timestamp, gen_id, exec_id, status, summary, summary_len, payload_kind,
         payload_len, payload_text, schemas, valid) = row[:12]
        gen = self._gen_cfg.get(gen_id, {})
        return TaskRun(
            task=task,
            run="" if gen.get("run") is None else str(gen["run"]),
            status=parse_status(status),
            timestamp="" if timestamp is None else str(timestamp),
            summary=_text(summary),
            summary_size=summary_len or 0,
            impl_schemas=schemas if schemas is None else str(schemas),
            payload=PayloadInfo(payload_kind or "null", payload_len or 0, payload_text),
            parameters=dict(zip(params, row[12:], strict=False)),
            gen_cfg=gen,
            exec_cfg=self._exec_cfg.get(exec_id, {}),
            source=str(self.path),
            rowid=rowid,
            valid_flag=valid,
        )

    # -- on request ----------------------------------------------------------

    def read_value(self, task: str, rowid: int, column: str, limit: int | None = None) -> Any:
        """One stored value, e.g. a whole summary or payload, read only when asked for.

        ``limit`` bytes at most (a preview); raises ``KeyError`` for an unknown
        table, column or row, and ``sqlite3`` errors when the file is unreadable.
        """
        con = self._connect()
        try:
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({_q(task)})")]
            if column not in columns:
                raise KeyError(f"{task}.{column}")
            expr = _q(column) if limit is None else f"substr({_q(column)}, 1, {int(limit)})"
            key = "id" if "id" in columns else "rowid"
            sql = f"SELECT {expr} FROM {_q(task)} WHERE {key} = ?"
            found = con.execute(sql, (rowid,)).fetchone()
        finally:
            con.close()
        if found is None:
            raise KeyError(f"{task} row {rowid}")
        return found[0]
