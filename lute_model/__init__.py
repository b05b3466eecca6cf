"""The model of LUTE's results: Task statuses, results, summary pages and the readers of
the files LUTE leaves on disk.  No Panel widgets here: views live in ``dashboard``."""

from lute_model.status import ALL_STATUSES, PALETTE, UNKNOWN, TaskStatus, parse_status

__all__ = ["ALL_STATUSES", "PALETTE", "UNKNOWN", "TaskStatus", "parse_status"]
