"""LUTE's first database layout ("v1", ``lute/io/db.py`` until 2025): one table per Task.

Each Task table holds one row per execution, with the flattened parameters
as columns, ``result.*`` columns and ids into the shared ``gen_cfg`` (the
header: run, experiment, ...) and ``exec_cfg`` (environment, communicators)
tables.  Rows are appended and never changed, so after the first read only
rows with a larger id than the last one seen need reading.  New parameters
arrive as columns added by ``ALTER TABLE``: columns are found by name.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from lute_model.results import TaskRun, text_of
from lute_model.sources.db_common import (
    SUMMARY_KEEP,
    capped_sql,
    kept_text,
    payload_info,
    payload_sql,
    quote,
    read_new_rows,
    summary_sql,
    summary_value_sql,
    unreadable,
)
from lute_model.status import UnknownStatus, parse_status

#: Columns every LUTE Task table has besides the flattened parameters.
RESULT_COLUMNS = ("result.task_status", "result.summary", "result.payload", "result.impl_schemas")
FIXED_COLUMNS = frozenset({"id", "timestamp", "gen_cfg_id", "exec_cfg_id", "valid_flag",
                           *RESULT_COLUMNS})
SHARED_TABLES = frozenset({"gen_cfg", "exec_cfg"})
#: What a value named by the detail view is called in a Task table.
FIELDS = {"summary": "result.summary", "payload": "result.payload"}

Problems = list[str]


def is_task_table(columns: list[str]) -> bool:
    """A v1 Task table is one with a ``result.task_status`` column (v2 tables have none)."""
    return "result.task_status" in columns


@dataclass
class TaskTable:
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

        def col(name: str, exprs: list[str] | None = None) -> list[str]:
            exprs = exprs or [quote(name)]
            return exprs if name in have else ["NULL"] * len(exprs)

        rowid = "id" if self.has_id else "rowid"
        fields = [rowid, *col("timestamp"), *col("gen_cfg_id"), *col("exec_cfg_id"),
                  *col("result.task_status"),
                  *col("result.summary", summary_sql(quote("result.summary"))),
                  *col("result.payload", payload_sql(quote("result.payload"))),
                  *col("result.impl_schemas"), *col("valid_flag")]
        fields += [capped_sql(quote(c)) for c in self.parameter_columns]
        return (f"SELECT {', '.join(fields)} FROM {quote(self.name)} "
                f"WHERE {rowid} > ? ORDER BY {rowid}")


class V1Tables:
    """The v1 part of one ``lute.db``: its Task tables and the shared header tables."""

    layout = "v1"

    def __init__(self, source: str) -> None:
        self.source = source
        self.tables: dict[str, TaskTable] = {}
        self._last_id: dict[str, int] = {}
        self._gen_cfg: dict[int, dict[str, Any]] = {}
        self._exec_cfg: dict[int, dict[str, Any]] = {}
        self._has_shared: set[str] = set()
        # Task -> parameter values -> the dict rows with those values share (read-only).
        self._same_parameters: dict[str, dict[tuple, dict[str, Any]]] = {}

    @property
    def present(self) -> bool:
        return bool(self.tables)

    def claims(self, columns_by_table: dict[str, list[str]]) -> set[str]:
        """The tables this layout reads (every other one is someone else's)."""
        return {name for name, columns in columns_by_table.items()
                if name in SHARED_TABLES or is_task_table(columns)}

    def load_schema(self, columns_by_table: dict[str, list[str]]) -> Problems:
        """Take note of the Task tables; what is odd about them, in words."""
        problems: Problems = []
        tables: dict[str, TaskTable] = {}
        for name, columns in columns_by_table.items():
            if name in SHARED_TABLES or not is_task_table(columns):
                continue
            missing = [c for c in ("gen_cfg_id", *RESULT_COLUMNS[1:]) if c not in columns]
            if missing:
                problems.append(f"Task table {name!r} lacks column(s) {', '.join(missing)}; "
                                "shown as empty.")
            tables[name] = TaskTable(name, columns, has_id="id" in columns)
        self._has_shared = SHARED_TABLES & set(columns_by_table)
        if tables:
            problems += [f"table {name!r} is missing: runs and environments cannot be shown."
                         for name in sorted(SHARED_TABLES - self._has_shared)]
        self.tables = tables
        return problems

    def read_new(self, con: sqlite3.Connection, rows: list[TaskRun], problems: Problems) -> None:
        """Append the rows added since the last call (inside the caller's read transaction)."""
        for table, into in (("gen_cfg", self._gen_cfg), ("exec_cfg", self._exec_cfg)):
            if table in self._has_shared:
                read_new_rows(con, table, into)
        for table in self.tables.values():
            self._read_table(con, table, rows, problems)

    def _read_table(self, con: sqlite3.Connection, table: TaskTable, rows: list[TaskRun],
                    problems: Problems) -> None:
        since = self._last_id.get(table.name, 0)
        try:
            found = con.execute(table.select_sql(), (since,)).fetchall()
        except sqlite3.DatabaseError as err:
            problems.append(f"Task table {table.name!r} could not be read ({unreadable(err)}); "
                            "its rows are not shown.")
            return
        params = table.parameter_columns
        unknown = 0
        for row in found:
            run = self._task_run(table.name, row, params)
            unknown += isinstance(run.status, UnknownStatus)
            rows.append(run)
        if found:
            self._last_id[table.name] = found[-1][0]
        if unknown:
            problems.append(f"{unknown} new row(s) of {table.name!r} have a status that is not "
                            "a TaskStatus; shown as UNKNOWN.")

    def _task_run(self, task: str, row: tuple, params: list[str]) -> TaskRun:
        (rowid, timestamp, gen_id, exec_id, status, summary, summary_len, payload_kind,
         payload_len, payload_text, schemas, valid) = row[:12]
        gen = self._gen_cfg.get(gen_id, {})
        return TaskRun(
            task=task,
            run=text_of(gen.get("run")),
            status=parse_status(status),
            timestamp=text_of(timestamp),
            summary=kept_text(summary, cut=(summary_len or 0) > SUMMARY_KEEP),
            summary_size=summary_len or 0,
            impl_schemas=schemas if schemas is None else str(schemas),
            payload=payload_info(payload_kind, payload_len, payload_text),
            parameters=self._parameters(task, params, row[12:]),
            gen_cfg=gen,
            exec_cfg=self._exec_cfg.get(exec_id, {}),
            source=self.source,
            rowid=rowid,
            valid_flag=valid,
            layout=self.layout,
        )

    def _parameters(self, task: str, names: list[str], values: tuple) -> dict[str, Any]:
        """The row's parameters; consecutive runs of one configuration share one dict."""
        try:
            cache = self._same_parameters.setdefault(task, {})
            found = cache.get(values)
        except TypeError:  # a value that cannot be a key: its own dict
            return dict(zip(names, values, strict=False))
        if found is None:
            if len(cache) >= 64:
                cache.clear()
            found = cache[values] = dict(zip(names, values, strict=False))
        return found

    def read_value(self, con: sqlite3.Connection, task: str, rowid: int, field: str,
                   limit: int | None) -> Any:
        """One whole (or ``limit``-byte) summary or payload of a Task table's row."""
        column = FIELDS.get(field, field)
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({quote(task)})")]
        if column not in columns:
            raise KeyError(f"{task}.{column}")
        if column == FIELDS["summary"]:
            expr = summary_value_sql(quote(column), limit)
        else:
            expr = quote(column) if limit is None else f"substr({quote(column)}, 1, {int(limit)})"
        key = "id" if "id" in columns else "rowid"
        found = con.execute(f"SELECT {expr} FROM {quote(task)} WHERE {key} = ?",
                            (rowid,)).fetchone()
        if found is None:
            raise KeyError(f"{task} row {rowid}")
        return kept_text(found[0], cut=limit is not None) if column == FIELDS["summary"] \
            else found[0]

