"""Write SQLite files with the schema LUTE's ``lute/io/db.py`` produces (its v1 layout).

The dashboard itself never writes a result directory: this module exists for
the demo experiment, the tests and the benchmarks, which need databases that
are byte-for-byte the shape LUTE leaves (shared ``gen_cfg`` / ``exec_cfg``
tables, one table per Task with flattened parameter columns, new parameters
added by ``ALTER TABLE`` after ``valid_flag``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lute_model.status import TaskStatus
from lute_writers.lute_schema_v2 import insert_execution


def sql_type(value: Any) -> str:
    """The column type LUTE gives a value (``bool`` is an int there too)."""
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    return "BLOB"


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """LUTE's column names: dict keys joined by '.', list items as ``[i]``."""
    flat: dict[str, Any] = {}

    def walk(key: str, item: Any) -> None:
        if isinstance(item, Mapping):
            for sub_key, sub_item in item.items():
                walk(f"{key}.{sub_key}" if key else str(sub_key), sub_item)
        elif isinstance(item, (list, tuple)):
            for index, sub_item in enumerate(item):
                walk(f"{key}[{index}]", sub_item)
        else:
            flat[key] = item

    walk(prefix, value)
    return flat


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(name: str) -> str:
    """A Task table's name as LUTE writes it in SQL: bare when it can be."""
    return name if name.isidentifier() else _quote(name)


def _ensure_shared_table(con: sqlite3.Connection, table: str, columns: Mapping[str, str]) -> None:
    cols = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {table}(id INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")


def _row_id(con: sqlite3.Connection, table: str, entry: Mapping[str, Any]) -> int:
    """The id of an identical row, or of a new one (LUTE de-duplicates shared rows)."""
    where = " AND ".join(f"{name} IS ?" for name in entry)
    found = con.execute(f"SELECT id FROM {table} WHERE {where}", list(entry.values())).fetchall()
    if found:
        return found[-1][0]
    names = ", ".join(entry)
    marks = ", ".join("?" for _ in entry)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    return con.execute(sql, list(entry.values())).lastrowid


def _ensure_task_table(con: sqlite3.Connection, task: str, columns: Mapping[str, str]) -> None:
    existing = {row[1] for row in con.execute(f"PRAGMA table_info({_table(task)})")}
    if existing:
        for name, kind in columns.items():
            if name not in existing:
                con.execute(f"ALTER TABLE {_table(task)} ADD COLUMN {_quote(name)} {kind}")
        return
    cols = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns.items())
    con.execute(
        f"CREATE TABLE {_table(task)}(id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, gen_cfg_id INTEGER, exec_cfg_id INTEGER, "
        f"{cols}, valid_flag INTEGER)"
    )


@dataclass
class Execution:
    """What LUTE's Executor stores when a Task ends (its ``DescribedAnalysis``, flattened)."""

    task: str
    run: str
    status: TaskStatus
    summary: Any = ""
    payload: Any = ""
    impl_schemas: str | None = None
    parameters: Mapping[str, Any] | None = None
    experiment: str = ""
    title: str = "LUTE Task Configuration"
    date: str = ""
    lute_version: Any = 0.1
    task_timeout: Any = 600
    env: Mapping[str, str] | None = None
    poll_interval: float = 0.05
    communicator_desc: tuple[str, ...] = (
        "PipeCommunicator: Communicates through stderr and stdout using pickle.",)
    #: Overrides ``CURRENT_TIMESTAMP`` (the demo back-dates its history).
    timestamp: str | None = None
    #: v2 only: the Executor's class name.
    executor: str = "Executor"
    #: The status as stored, when a test wants another form than the layout's own.
    stored_status: Any = None


def record_task(db_path: str, *, layout: str = "v1", **fields: Any) -> int:
    """Store one Task execution as LUTE's Executor does when the Task ends; return its id.

    ``fields`` are those of :class:`Execution`.  ``layout`` is ``"v1"`` (one
    table per Task, LUTE until 2025) or ``"v2"`` (the normalized layout, see
    :mod:`lute_writers.lute_schema_v2`); a file may get both, as at an upgrade.
    """
    execution = Execution(**fields)
    con = sqlite3.connect(db_path, timeout=30)
    try:
        with con:
            if layout == "v2":
                return insert_execution(con, execution)
            return _insert_v1(con, execution)
    finally:
        con.close()


def _insert_v1(con: sqlite3.Connection, e: Execution) -> int:
    """The row of ``e`` in its Task's table, with the shared ``gen_cfg``/``exec_cfg`` rows."""
    gen_entry = {"title": e.title, "experiment": e.experiment, "run": str(e.run), "date": e.date,
                 "lute_version": e.lute_version, "task_timeout": e.task_timeout}
    exec_entry = {
        "env": ";".join(f"{key}={value}" for key, value in (e.env or {}).items()),
        "poll_interval": e.poll_interval,
        "communicator_desc": ";".join(e.communicator_desc),
    }
    task_entry = flatten(e.parameters or {})
    task_entry.update({
        "result.task_status": e.status.name if e.stored_status is None else e.stored_status,
        "result.summary": e.summary,
        "result.payload": e.payload,
        "result.impl_schemas": e.impl_schemas,
    })
    columns = {name: sql_type(value) for name, value in task_entry.items()}
    columns.update({"result.task_status": "TEXT", "result.summary": "TEXT",
                    "result.payload": "BLOB", "result.impl_schemas": "TEXT"})
    for table, entry in (("gen_cfg", gen_entry), ("exec_cfg", exec_entry)):
        _ensure_shared_table(con, table, {name: sql_type(v) for name, v in entry.items()})
    _ensure_task_table(con, e.task, columns)
    row = {"gen_cfg_id": _row_id(con, "gen_cfg", gen_entry),
           "exec_cfg_id": _row_id(con, "exec_cfg", exec_entry), **task_entry,
           "valid_flag": 1 if e.status is TaskStatus.COMPLETED else 0}
    if e.timestamp is not None:
        row["timestamp"] = e.timestamp
    names = ", ".join(_quote(name) for name in row)
    marks = ", ".join("?" for _ in row)
    return con.execute(f"INSERT INTO {_table(e.task)} ({names}) VALUES ({marks})",
                       list(row.values())).lastrowid
