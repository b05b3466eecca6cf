"""Write SQLite files with the schema LUTE's ``lute/io/db.py`` produces.

The dashboard itself never writes a result directory: this module exists for
the demo experiment, the tests and the benchmarks, which need databases that
are byte-for-byte the shape LUTE leaves (shared ``gen_cfg`` / ``exec_cfg``
tables, one table per Task with flattened parameter columns, new parameters
added by ``ALTER TABLE`` after ``valid_flag``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from lute_model.status import TaskStatus


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


def record_task(
    db_path: str,
    *,
    task: str,
    run: str,
    status: TaskStatus,
    summary: str = "",
    payload: Any = "",
    impl_schemas: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    experiment: str = "",
    title: str = "LUTE Task Configuration",
    date: str = "",
    lute_version: float = 0.1,
    task_timeout: int = 600,
    env: Mapping[str, str] | None = None,
    poll_interval: float = 0.05,
    communicator_desc: tuple[str, ...] = (
        "PipeCommunicator: Communicates through stderr and stdout using pickle.",),
    timestamp: str | None = None,
) -> int:
    """Store one Task execution as LUTE's Executor does when the Task ends; return its id.

    ``timestamp`` overrides ``CURRENT_TIMESTAMP`` (the demo back-dates its history).
    """
    gen_entry = {"title": title, "experiment": experiment, "run": str(run), "date": date,
                 "lute_version": lute_version, "task_timeout": task_timeout}
    exec_entry = {
        "env": ";".join(f"{key}={value}" for key, value in (env or {}).items()),
        "poll_interval": poll_interval,
        "communicator_desc": ";".join(communicator_desc),
    }
    task_entry = flatten(parameters or {})
    task_entry.update({
        "result.task_status": status.name,
        "result.summary": summary,
        "result.payload": payload,
        "result.impl_schemas": impl_schemas,
    })
    columns = {name: sql_type(value) for name, value in task_entry.items()}
    columns.update({"result.task_status": "TEXT", "result.summary": "TEXT",
                    "result.payload": "BLOB", "result.impl_schemas": "TEXT"})
    con = sqlite3.connect(db_path, timeout=30)
    try:
        with con:
            for table, entry in (("gen_cfg", gen_entry), ("exec_cfg", exec_entry)):
                _ensure_shared_table(con, table, {name: sql_type(v) for name, v in entry.items()})
            _ensure_task_table(con, task, columns)
            row = {"gen_cfg_id": _row_id(con, "gen_cfg", gen_entry),
                   "exec_cfg_id": _row_id(con, "exec_cfg", exec_entry), **task_entry,
                   "valid_flag": 1 if status is TaskStatus.COMPLETED else 0}
            if timestamp is not None:
                row["timestamp"] = timestamp
            names = ", ".join(_quote(name) for name in row)
            marks = ", ".join("?" for _ in row)
            return con.execute(f"INSERT INTO {_table(task)} ({names}) VALUES ({marks})",
                               list(row.values())).lastrowid
    finally:
        con.close()
