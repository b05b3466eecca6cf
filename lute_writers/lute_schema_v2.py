"""Write SQLite files in LUTE's normalized layout (database specification v0.2, 2025 on).

For the demo, the tests and the benchmarks, like :mod:`lute_writers.lute_schema`
for the older layout: the tables, columns and behaviours follow the
specification and what LUTE's writer leaves on disk (``executions`` pointing
at de-duplicated ``tasks``, ``config``, ``results``, ``executors`` rows;
``results.status`` as ``"TaskStatus.COMPLETED"`` in an INTEGER column;
parameters one row each as JSON; environment one row per LUTE_*/SLURM_*
variable; the ``schema`` value a bitwise OR of ``base_schema`` ids).  The
newer tables (``task_version``, ``version_specifiers``) come with ``newer``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lute_model.results import BaseSchema
from lute_model.status import TaskStatus

if TYPE_CHECKING:
    from lute_writers.lute_schema import Execution

_TABLES = """
CREATE TABLE IF NOT EXISTS tasks (id integer PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS parameter_types (id integer PRIMARY KEY, type_name TEXT,
    definition TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS communicators (id integer PRIMARY KEY, name TEXT, description TEXT,
    CHECK (id == 0 OR (id > 0 AND (id & (id - 1)) = 0)), UNIQUE(name, description));
CREATE TABLE IF NOT EXISTS executors (id integer PRIMARY KEY, name TEXT, poll_interval INTEGER,
    comm INTEGER, UNIQUE(name, poll_interval, comm));
CREATE TABLE IF NOT EXISTS config (id integer PRIMARY KEY, title TEXT, experiment TEXT,
    run TEXT, date TEXT, lute_version TEXT, task_timeout real,
    UNIQUE(title, experiment, run, date, lute_version, task_timeout));
CREATE TABLE IF NOT EXISTS base_schema (id INTEGER PRIMARY KEY, name TEXT UNIQUE,
    CHECK (id == 0 OR (id > 0 AND (id & (id - 1)) = 0)));
CREATE TABLE IF NOT EXISTS schema (id INTEGER PRIMARY KEY, schema INTEGER UNIQUE);
CREATE TABLE IF NOT EXISTS results (id integer PRIMARY KEY, schema_id INTEGER, payload TEXT,
    summary TEXT, status INTEGER, valid_flag INTEGER,
    UNIQUE(schema_id, payload, summary, status, valid_flag));
CREATE TABLE IF NOT EXISTS executions (id integer PRIMARY KEY, task_id integer,
    parameter_type_id integer, executor_id integer, config_id integer, result_id integer,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS param_meta (id integer PRIMARY KEY, rename_param TEXT NULL,
    description TEXT NULL, flag_type TEXT NULL, is_result INTEGER NULL,
    UNIQUE(rename_param, description, flag_type, is_result));
CREATE TABLE IF NOT EXISTS parameters (id integer PRIMARY KEY, execution_id INTEGER,
    meta_id INTEGER, name TEXT, value TEXT);
CREATE TABLE IF NOT EXISTS environment (id integer PRIMARY KEY, execution_id INTEGER,
    name TEXT, value TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS environment_index_0 ON environment (execution_id, name);
"""

_NEWER_TABLES = """
CREATE TABLE IF NOT EXISTS version_specifiers (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS task_version (id integer PRIMARY KEY, version_specifier INTEGER,
    version_info TEXT);
"""

#: ``VersionSpecifier`` of newer LUTE: how to read ``task_version.version_info``.
VERSION_SPECIFIERS = {"NONE": 0, "LUTE_VERSION": 1, "GIT_SHA": 2, "GIT_DIFF": 4}


def create_tables(con: sqlite3.Connection, newer: bool = False) -> None:
    """The v2 tables (idempotent), with ``base_schema`` filled as LUTE fills it."""
    exists = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'executions'").fetchone()
    if exists and not newer:
        return
    con.executescript(_TABLES)
    con.executemany("INSERT OR IGNORE INTO base_schema (id, name) VALUES (?, ?)",
                    [(member.value, member.name) for member in BaseSchema])
    if newer:
        con.executescript(_NEWER_TABLES)
        columns = {row[1] for row in con.execute("PRAGMA table_info(executions)")}
        if "task_version_id" not in columns:
            con.execute("ALTER TABLE executions ADD COLUMN task_version_id integer")
        con.executemany("INSERT OR IGNORE INTO version_specifiers (id, name) VALUES (?, ?)",
                        [(value, name) for name, value in VERSION_SPECIFIERS.items()])


def _id_of(con: sqlite3.Connection, table: str, entry: Mapping[str, Any]) -> int:
    """The id of the row equal to ``entry``, inserted if there is none (LUTE de-duplicates)."""
    where = " AND ".join(f'"{name}" IS ?' for name in entry)
    found = con.execute(f'SELECT id FROM "{table}" WHERE {where} ORDER BY id DESC LIMIT 1',
                        list(entry.values())).fetchone()
    if found:
        return found[0]
    names = ", ".join(f'"{name}"' for name in entry)
    marks = ", ".join("?" for _ in entry)
    return con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                       list(entry.values())).lastrowid


def _communicator_bits(con: sqlite3.Connection, descriptions: tuple[str, ...]) -> int:
    """Each ``"Name: description"`` as a power-of-two id; the Executor's ``comm`` is their OR."""
    bits = 0
    for text in descriptions:
        name, _, description = text.partition(": ")
        found = con.execute("SELECT id FROM communicators WHERE name = ? AND description = ?",
                            (name, description)).fetchone()
        if found is None:
            top = con.execute("SELECT MAX(id) FROM communicators").fetchone()[0]
            found = (1 if top is None else top * 2,)
            con.execute("INSERT INTO communicators (id, name, description) VALUES (?, ?, ?)",
                        (found[0], name, description))
        bits |= found[0]
    return bits


def _schema_id(con: sqlite3.Connection, impl_schemas: str | None) -> int:
    bits = sum(BaseSchema[name].value for name in (impl_schemas or "").split(";")
               if name in BaseSchema.__members__)
    return _id_of(con, "schema", {"schema": bits})


def _parameter_rows(con: sqlite3.Connection, parameters: Mapping[str, Any],
                    execution_id: int | None) -> None:
    for name, value in parameters.items():
        meta = _id_of(con, "param_meta", {"rename_param": None, "description": f"{name}.",
                                          "flag_type": None, "is_result": None})
        con.execute("INSERT INTO parameters (execution_id, meta_id, name, value) "
                    "VALUES (?, ?, ?, ?)", (execution_id, meta, name, json.dumps(value)))


def insert_execution(con: sqlite3.Connection, e: Execution, *, environment: bool = True,
                     newer: bool = False, task_version: str | None = None) -> int:
    """Store one execution in the v2 tables; returns ``executions.id``.

    ``environment=False`` stops where LUTE's writer stopped for third-party
    Tasks (parameters written, no environment rows).
    """
    create_tables(con, newer=newer or task_version is not None)
    header = {"title": e.title, "experiment": e.experiment, "run": str(e.run), "date": e.date,
              "lute_version": str(e.lute_version), "task_timeout": float(e.task_timeout)}
    stored = f"TaskStatus.{e.status.name}" if e.stored_status is None else e.stored_status
    result = {"schema_id": _schema_id(con, e.impl_schemas), "payload": e.payload,
              "summary": e.summary if isinstance(e.summary, (str, bytes)) else json.dumps(
                  e.summary), "status": stored,
              "valid_flag": 1 if e.status is TaskStatus.COMPLETED else 0}
    executor = {"name": e.executor, "poll_interval": e.poll_interval,
                "comm": _communicator_bits(con, e.communicator_desc)}
    parameter_type = {"type_name": f"{e.task}Parameters",
                      "definition": json.dumps({"title": f"{e.task}Parameters", "type": "object",
                                                "properties": sorted(e.parameters or {})})}
    row = {"task_id": _id_of(con, "tasks", {"name": e.task}),
           "parameter_type_id": _id_of(con, "parameter_types", parameter_type),
           "executor_id": _id_of(con, "executors", executor),
           "config_id": _id_of(con, "config", header),
           "result_id": _id_of(con, "results", result)}
    if task_version is not None:
        row["task_version_id"] = _id_of(con, "task_version", {
            "version_specifier": VERSION_SPECIFIERS["GIT_SHA"], "version_info": task_version})
    if e.timestamp is not None:
        row["timestamp"] = e.timestamp
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    execution_id = con.execute(f"INSERT INTO executions ({names}) VALUES ({marks})",
                               list(row.values())).lastrowid
    _parameter_rows(con, e.parameters or {}, execution_id)
    if environment:
        con.executemany("INSERT INTO environment (execution_id, name, value) VALUES (?, ?, ?)",
                        [(execution_id, key, value) for key, value in (e.env or {}).items()
                         if ("LUTE_" in key and "_TENV_" not in key) or "SLURM_" in key])
    return execution_id


def insert_placeholder(con: sqlite3.Connection, parameters: Mapping[str, Any]) -> None:
    """Parameters stored when a Task starts, not linked to any execution yet (newer LUTE
    links them when the Task ends; a Task that dies leaves them with a NULL execution_id)."""
    create_tables(con, newer=True)
    _parameter_rows(con, parameters, None)
