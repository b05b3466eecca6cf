"""LUTE's normalized database layout ("v2", database specification v0.2, 2025 on).

``executions`` is the spine: one row per Task execution, pointing at
``tasks`` (the name), ``config`` (the header: run, experiment, ...),
``results`` (status, summary, payload), ``executors``, ``parameter_types``
and, in newer versions, ``task_version``.  ``results`` rows are shared by
every execution with the same values, even across Tasks, so executions are
counted, never results.  Statuses are stored as ``TaskStatus.COMPLETED``.

Executions are read incrementally by ``executions.id``.  Their parameters and
environment are *not* kept: LUTE writes them in stages (newer versions store
the parameters when a Task starts, with no execution, and link them when it
ends), so they are read when someone opens the execution (:meth:`details`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from lute_model.results import DescribedAnalysis, TaskRun, schema_names, text_of
from lute_model.sources.db_common import (
    PARAMETER_KEEP,
    SUMMARY_KEEP,
    kept_text,
    payload_info,
    payload_sql,
    read_new_rows,
    summary_sql,
    summary_value_sql,
    unreadable,
)
from lute_model.status import UnknownStatus, parse_status

#: Every table of the v2 specification, the newer ones included.
TABLES = frozenset({"executions", "tasks", "config", "results", "parameters", "environment",
                    "param_meta", "parameter_types", "executors", "communicators", "schema",
                    "base_schema", "task_version", "version_specifiers"})
#: Without these an execution cannot be shown as a Task, a run and a status.
NEEDED = ("tasks", "config", "results")
FIELDS = {"summary": "summary", "payload": "payload"}

Problems = list[str]


class V2Executions:
    """The v2 part of one ``lute.db``."""

    layout = "v2"

    def __init__(self, source: str) -> None:
        self.source = source
        self.columns: dict[str, list[str]] = {}
        self._select = ""
        self._last_id = 0
        self._config: dict[int, dict[str, Any]] = {}
        self._executors: dict[int, dict[str, Any]] = {}
        self._communicators: dict[int, str] = {}
        self._schema_names: dict[int, str] = {}

    @property
    def present(self) -> bool:
        return "executions" in self.columns

    def claims(self, columns_by_table: dict[str, list[str]]) -> set[str]:
        return TABLES & set(columns_by_table) if "executions" in columns_by_table else set()

    def load_schema(self, columns_by_table: dict[str, list[str]]) -> Problems:
        self.columns = {name: columns_by_table[name] for name in self.claims(columns_by_table)}
        if not self.present:
            self._select = ""
            return []
        self._select = self._select_sql()
        return [f"v2 table {name!r} is missing: executions are shown without their "
                f"{'Task names' if name == 'tasks' else 'runs' if name == 'config' else 'results'}."
                for name in NEEDED if name not in self.columns]

    def _has(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, ())

    def _select_sql(self) -> str:
        """One SELECT of new executions with what they point at; absent parts are NULL."""
        def pick(table: str, column: str, alias: str) -> str:
            return f"{alias}.{column}" if self._has(table, column) else "NULL"

        # A draft of LUTE's newer writer names the column results_id.
        result_id = next((c for c in ("result_id", "results_id")
                          if self._has("executions", c)), None)
        joins = []
        if "tasks" in self.columns and self._has("executions", "task_id"):
            joins.append("LEFT JOIN tasks t ON t.id = e.task_id")
        if "results" in self.columns and result_id:
            joins.append(f"LEFT JOIN results r ON r.id = e.{result_id}")
            if "schema" in self.columns and self._has("results", "schema_id"):
                joins.append("LEFT JOIN schema s ON s.id = r.schema_id")
        if "parameter_types" in self.columns and self._has("executions", "parameter_type_id"):
            joins.append("LEFT JOIN parameter_types p ON p.id = e.parameter_type_id")
        joined = {j.split()[3] for j in joins}  # the aliases that exist

        def col(table: str, column: str, alias: str) -> str:
            return pick(table, column, alias) if alias == "e" or alias in joined else "NULL"

        summary, payload = col("results", "summary", "r"), col("results", "payload", "r")
        fields = [
            "e.id", col("executions", "timestamp", "e"), col("tasks", "name", "t"),
            col("executions", "task_id", "e"), col("executions", "config_id", "e"),
            col("executions", "executor_id", "e"), col("parameter_types", "type_name", "p"),
            col("results", "id", "r"),
            col("results", "status", "r"),
            *(summary_sql(summary) if summary != "NULL" else ["NULL", "NULL"]),
            *(payload_sql(payload) if payload != "NULL" else ["NULL", "NULL", "NULL"]),
            col("results", "valid_flag", "r"), col("schema", "schema", "s"),
        ]
        return (f"SELECT {', '.join(fields)} FROM executions e {' '.join(joins)} "
                "WHERE e.id > ? ORDER BY e.id")

    # -- reading -----------------------------------------------------------------------

    def read_new(self, con: sqlite3.Connection, rows: list[TaskRun], problems: Problems) -> None:
        """Append the executions added since the last call (inside the read transaction)."""
        if not self.present:
            return
        try:
            self._read_lookups(con)
            found = con.execute(self._select, (self._last_id,)).fetchall()
        except sqlite3.DatabaseError as err:
            problems.append(f"the v2 tables could not be read ({unreadable(err)}); their "
                            "executions are not shown.")
            return
        if not found:
            return
        self._last_id = found[-1][0]
        nameless = resultless = unknown = 0
        for record in found:
            row = self._task_run(record)
            nameless += record[2] is None
            resultless += record[7] is None
            unknown += isinstance(row.status, UnknownStatus) and record[7] is not None
            rows.append(row)
        if nameless:
            problems.append(f"{nameless} new execution(s) name a Task that is not in the "
                            "'tasks' table; shown as 'Task #<id>'.")
        if resultless:
            problems.append(f"{resultless} new execution(s) have no 'results' row (a write that "
                            "stopped midway?); their status is shown as UNKNOWN.")
        if unknown:
            problems.append(f"{unknown} new execution(s) have a status that is not a TaskStatus;"
                            " shown as UNKNOWN.")

    def _read_lookups(self, con: sqlite3.Connection) -> None:
        """The shared rows executions point at: new ones only (they are never changed)."""
        if "config" in self.columns:
            read_new_rows(con, "config", self._config)
        if "executors" in self.columns:
            read_new_rows(con, "executors", self._executors)
        # A handful of rows each, named by bits: read whole when anything changed.
        if {"name", "description"} <= set(self.columns.get("communicators", ())):
            self._communicators = {
                cid: f"{name}: {description}" for cid, name, description in
                con.execute("SELECT id, name, description FROM communicators")}
        if {"id", "name"} <= set(self.columns.get("base_schema", ())):
            self._schema_names = dict(con.execute("SELECT id, name FROM base_schema"))

    def _task_run(self, record: tuple) -> TaskRun:
        (exec_id, timestamp, task, task_id, config_id, executor_id, parameter_type, found_result,
         status, summary, summary_len, payload_kind, payload_len, payload_text, valid,
         schema) = record
        header = self._config.get(config_id, {})
        return TaskRun(
            task=text_of(task) if task is not None else f"Task #{task_id}",
            run=text_of(header.get("run")),
            status=parse_status(status) if found_result is not None else UnknownStatus(
                raw="no results row"),
            timestamp=text_of(timestamp),
            summary=kept_text(summary, cut=(summary_len or 0) > SUMMARY_KEEP),
            summary_size=summary_len or 0,
            impl_schemas=schema_names(schema if isinstance(schema, int) else None,
                                      self._schema_names),
            payload=payload_info(payload_kind, payload_len, payload_text),
            gen_cfg=header,
            exec_cfg=self._executor(executor_id),
            source=self.source,
            rowid=exec_id,
            valid_flag=valid,
            layout=self.layout,
            parameter_type=text_of(parameter_type),
        )

    def _executor(self, executor_id: Any) -> dict[str, Any]:
        """The Executor's name, poll interval and communicators, in the v1 ``exec_cfg`` keys."""
        found = self._executors.get(executor_id)
        if found is None:
            return {}
        if "communicator_desc" not in found:  # filled once, shared by every execution
            comm = found.get("comm") if isinstance(found.get("comm"), int) else 0
            found["communicator_desc"] = ";".join(
                text for cid, text in sorted(self._communicators.items()) if cid & comm)
        return found

    # -- on request --------------------------------------------------------------------

    def read_value(self, con: sqlite3.Connection, task: str, rowid: int, field: str,
                   limit: int | None) -> Any:
        """One whole (or ``limit``-byte) summary or payload of an execution's result."""
        column = FIELDS.get(field)
        if column is None or not self._has("results", column):
            raise KeyError(f"results.{field}")
        result_id = "result_id" if self._has("executions", "result_id") else "results_id"
        if column == "summary":
            expr = summary_value_sql("r.summary", limit)
        else:
            expr = f"r.{column}" if limit is None else f"substr(r.{column}, 1, {int(limit)})"
        found = con.execute(f"SELECT {expr} FROM executions e JOIN results r "
                            f"ON r.id = e.{result_id} WHERE e.id = ?", (rowid,)).fetchone()
        if found is None:
            raise KeyError(f"{task} execution {rowid}")
        return kept_text(found[0], cut=limit is not None) if column == "summary" else found[0]

    def details(self, con: sqlite3.Connection, row: TaskRun) -> DescribedAnalysis:
        """Parameters (decoded from JSON), environment, Executor and Task version of a row."""
        parameters: dict[str, Any] = {}
        if {"execution_id", "name", "value"} <= set(self.columns.get("parameters", ())):
            for name, value in con.execute(
                    "SELECT name, CASE WHEN length(value) > ? THEN substr(value, 1, ?) || '…' "
                    "ELSE value END FROM parameters WHERE execution_id = ? ORDER BY id",
                    (PARAMETER_KEEP, PARAMETER_KEEP, row.rowid)):
                parameters[text_of(name)] = _json(value)
        environment: dict[str, str] = {}
        if {"execution_id", "name", "value"} <= set(self.columns.get("environment", ())):
            environment = {text_of(name): text_of(value) for name, value in con.execute(
                "SELECT name, value FROM environment WHERE execution_id = ? ORDER BY id",
                (row.rowid,))}
        cfg = row.exec_cfg
        return DescribedAnalysis(
            task_parameters=parameters, task_env=environment,
            executor_name=text_of(cfg.get("name")), poll_interval=cfg.get("poll_interval"),
            communicator_desc=tuple(c for c in text_of(cfg.get("communicator_desc")).split(";")
                                if c),
            task_version=self._task_version(con, row.rowid))

    def _task_version(self, con: sqlite3.Connection, execution_id: int | None) -> str | None:
        """The version LUTE recorded for the Task (newer versions), as text."""
        if not (self._has("executions", "task_version_id")
                and self._has("task_version", "version_info")):
            return None
        found = con.execute(
            "SELECT substr(v.version_info, 1, ?) FROM executions e JOIN task_version v "
            "ON v.id = e.task_version_id WHERE e.id = ?",
            (PARAMETER_KEEP, execution_id)).fetchone()
        return None if found is None or found[0] is None else text_of(found[0])


def _json(value: Any) -> Any:
    """A parameter as LUTE stored it (``json.dumps``); text that is not JSON stays text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value

