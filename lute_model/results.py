"""TaskResult as a param class, and ``TaskRun``: one Task execution as stored.

``TaskResult`` mirrors LUTE's dataclass field by field and reads it by duck
typing, so LUTE need not be installed; the Executor hook reads LUTE's live
result through it.  LUTE's ``DescribedAnalysis`` is what a row's
:class:`DescribedAnalysis` shows (parameters, environment, Executor).
``TaskRun`` is what the readers produce, one per database row or journal event:
a frozen slotted dataclass rather than a Parameterized, because an experiment
holds tens of thousands of them and nothing watches a single row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import param

from lute_model.runs import run_key
from lute_model.status import AnyStatus, TaskStatus, UnknownStatus, parse_status


class BaseSchema(int, Enum):
    """The atomic schemas a result may implement: LUTE's ``BaseSchema`` (2025 on).

    The v2 database stores a result's ``impl_schemas`` as the bitwise OR of
    these values (``schema.schema``), named by the ``base_schema`` table; a
    database written by a newer LUTE may name more bits than this enum knows.
    """

    NONE = 0
    HDF5 = 1


def schema_names(bits: int | None, names: dict[int, str]) -> str | None:
    """``impl_schemas`` text (``"HDF5;..."``) from a v2 schema value and its names.

    0 (and NULL) is what LUTE stores for a Task that implements none: ``None``,
    as the v1 layout stores it.  A bit nobody named is shown as its number.
    """
    if not bits:
        return None
    known = {**{member.value: member.name for member in BaseSchema}, **names}
    parts = [known.get(1 << shift, str(1 << shift)) for shift in range(int(bits).bit_length())
             if int(bits) >> shift & 1]
    return ";".join(parts)


class TaskResult(param.Parameterized):
    """Output of one Task's execution: LUTE's ``TaskResult``, as the Executor hook reads it.

    Rows read back from ``lute.db`` are :class:`TaskRun`; this is LUTE's live
    object, read in the Executor's process while the Task runs.
    """

    task_name = param.String(default="", doc="Name of the Task that produced it.")
    task_status = param.ClassSelector(
        class_=(TaskStatus, UnknownStatus), default=TaskStatus.PENDING,
        doc="Status of the Task; UNKNOWN when the stored value was not a status.")
    summary = param.Parameter(
        default="", doc="Short summary of the result: text, or (LUTE 2025 on) any object, "
                        "e.g. a dict of named values.")
    payload = param.Parameter(default="", doc="The actual result, in any format.")
    impl_schemas = param.String(
        default=None, allow_None=True, doc="';'-separated Task schemas the Task implements.")

    @classmethod
    def from_lute(cls, obj: Any) -> TaskResult:
        """Read LUTE's ``TaskResult`` (or anything with its fields) without LUTE; never raises.

        The hook reads it while LUTE fills it in, in every LUTE version: a field
        that is missing keeps its default (older LUTE has no ``impl_schemas``),
        a status may be LUTE's enum, a word or a number (:func:`parse_status`),
        and an object that is no TaskResult at all (None) gives an UNKNOWN status.
        """
        name = getattr(obj, "task_name", "")
        schemas = getattr(obj, "impl_schemas", None)
        return cls(
            task_name=name if isinstance(name, str) else "",
            task_status=parse_status(getattr(obj, "task_status", None)),
            summary=getattr(obj, "summary", ""),
            payload=getattr(obj, "payload", ""),
            impl_schemas=schemas if isinstance(schemas, str) else None,
        )


@dataclass(frozen=True, slots=True)
class PayloadInfo:
    """What is known of a payload without loading it."""

    kind: str  # SQLite storage class: "text", "blob", "null", "integer", "real"
    size: int  # bytes
    text: str | None = None  # the value itself when it is short text (paths are found here)


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One execution of one Task for one run, as a database row or a journal event says."""

    task: str
    run: str
    status: AnyStatus
    timestamp: str  # ISO-like UTC text as stored ("2024-10-09 12:51:49")
    summary: str = ""
    summary_size: int = 0
    impl_schemas: str | None = None
    payload: PayloadInfo = PayloadInfo("null", 0)
    parameters: dict[str, Any] = field(default_factory=dict)
    gen_cfg: dict[str, Any] = field(default_factory=dict)
    exec_cfg: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the database file (or journal) it came from
    rowid: int | None = None  # v1: id in the Task table; v2: executions.id; None: journal
    valid_flag: int | None = None
    layout: str = ""  # "v1" (a Task table), "v2" (executions), "" (a journal event)
    parameter_type: str = ""  # v2: the TaskParameters class LUTE recorded

    @property
    def run_key(self) -> int | str:
        """A key that sorts runs numerically and merges '12', '0012' and 'r0012'."""
        return run_key(self.run)


@dataclass(frozen=True, slots=True)
class DescribedAnalysis:
    """LUTE's ``DescribedAnalysis`` of one execution, as read back from ``lute.db``: its
    parameters, environment and Executor, with LUTE's field names.  Its ``task_result``
    is the execution's :class:`TaskRun`, which the state keeps; this part is read on
    demand, as the detail view opens.

    The v1 layout keeps them in the Task table's row (``TaskRun.parameters``,
    ``exec_cfg``); the v2 layout in rows of other tables that newer LUTE
    writes in stages (parameters first, with no execution, linked when the
    Task ends), so for v2 they are read when a detail is opened, never kept.
    """

    task_parameters: dict[str, Any] = field(default_factory=dict)
    task_env: dict[str, str] = field(default_factory=dict)
    poll_interval: Any = None
    communicator_desc: tuple[str, ...] = ()
    executor_name: str = ""  # newer LUTE names the Executor in its DescribedAnalysis
    task_version: str | None = None  # newer LUTE's task_version table, as text

    @classmethod
    def of_v1_row(cls, row: TaskRun) -> DescribedAnalysis:
        """What a v1 row carries: ``exec_cfg.env`` is ``KEY=value`` pairs joined by ';'."""
        cfg = row.exec_cfg
        pairs = (pair.partition("=") for pair in text_of(cfg.get("env")).split(";") if pair)
        return cls(
            task_parameters=row.parameters,
            task_env={key: value for key, _, value in pairs},
            poll_interval=cfg.get("poll_interval"),
            communicator_desc=tuple(c for c in text_of(cfg.get("communicator_desc")).split(";")
                                if c),
        )


def text_of(value: Any) -> str:
    """A stored value as text: None is empty, anything else its ``str``."""
    return value if isinstance(value, str) else ("" if value is None else str(value))
