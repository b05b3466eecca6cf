"""Two runs side by side: what the Compare screen shows, without Panel.

"What changed between run 410 and run 412?" is answered by the parameters
that differ (only those: a Task has dozens that never change) and the values
each run reported.  Parameters come from ``Experiment.details(row)`` in
either database layout: a v1 row carries LUTE's flattened names (``a.b``,
``x[0]``), a v2 execution JSON trees.  Both are compared flattened, the v2
tree flattened the way LUTE flattens for v1, so a run stored before an
upgrade compares with one stored after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lute_model.runs import run_key


class _Missing:
    """A parameter one of the runs does not have (not the same as a stored None)."""

    def __repr__(self) -> str:
        return "(not set)"


MISSING: Any = _Missing()


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as LUTE's flat names: ``{"a": {"b": 1}, "x": [2]}`` ->
    ``{"a.b": 1, "x[0]": 2}``; names that are flat already stay as they are."""
    if isinstance(tree, Mapping) and tree:
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(tree, list) and tree and prefix:
        flat = {}
        for index, value in enumerate(tree):
            flat.update(flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix: tree} if prefix else {}


def differences(first: Mapping[str, Any], second: Mapping[str, Any]
                ) -> list[tuple[str, Any, Any]]:
    """``(name, first's, second's)`` for each flattened name whose values differ, in the
    first's order then the second's; a name only one has gives MISSING on the other side.

    Values compare as Python does: v1 stores a bool as 0/1, which equals v2's
    ``False``/``True``, so an upgrade alone shows no difference.
    """
    a, b = flatten(dict(first)), flatten(dict(second))
    names = list(dict.fromkeys([*a, *b]))
    return [(name, a.get(name, MISSING), b.get(name, MISSING)) for name in names
            if a.get(name, MISSING) != b.get(name, MISSING)]


def parse_pair(text: str) -> tuple[Any, Any] | None:
    """``"R1,R2"`` as two run keys, or None when the text is not two runs."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        return None
    return run_key(parts[0]), run_key(parts[1])
