"""Ordering and navigation over summary pages: tabs, run tabs, page kinds, previous/next run.

An experiment can hold tens of thousands of pages (FindPeaks writes one
``r{run}/powders`` per run), so a view must never sort or scan all of them on
each click.  :func:`page_index` builds the orderings once per ``pages`` dict
(``Experiment`` publishes a new dict on every change, so identity is a valid
version stamp) and the functions here answer from it.

A page's *kind* is its display_name with its run replaced by ``{run}``:
``r0012/powders`` and ``r0013/powders`` are two runs of ``{run}/powders``, which
is what previous/next run and "follow latest" step through.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lute_model.runs import find_run, label_run
from lute_model.shared_cache import SharedCache
from lute_model.summaries import tab_of

RUN_PLACEHOLDER = "{run}"

_DIGITS = re.compile(r"(\d+)")

#: How many pages dicts keep their index: one per experiment open in this process.
_CACHE_SIZE = 16


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key that reads numbers as numbers, ignoring case: ``r2`` < ``r12`` < ``R13``.

    ``re.split`` with a capture group alternates text and digits, text first,
    so equal positions always compare text with text and int with int.  The
    text itself comes last to keep ``r012``/``r12`` in a stable order.
    """
    chunks = _DIGITS.split(text.casefold())
    return tuple(int(c) if i % 2 else c for i, c in enumerate(chunks)), text


def group_tabs(tabs: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(named_tabs, run_tabs)``: named ones in natural order, run tabs newest run first.

    Run tabs can number in the thousands, so views show them behind a run
    picker instead of next to the few named tabs (Geometry_Fit, XAS, scans).
    """
    named: list[str] = []
    runs: list[tuple[int, str]] = []
    for tab in set(tabs):
        run = label_run(tab)
        if run is None:
            named.append(tab)
        else:
            runs.append((run, tab))
    named.sort(key=natural_key)
    runs.sort(key=lambda item: (-item[0], natural_key(item[1])))
    return named, [tab for _, tab in runs]


def page_kind(display_name: str) -> tuple[str, int] | None:
    """``(kind, run)``: the name with its run token replaced by ``{run}``; None without a run.

    The run is read from the last part that names one, as ``DisplayName.run``
    does: ``XAS/0012_XAS`` -> ``("XAS/{run}_XAS", 12)``.
    """
    parts = display_name.split("/")
    found = find_run(parts)
    if found is None:
        return None
    index, match = found
    start, end = match.span(1)
    parts[index] = parts[index][:start] + RUN_PLACEHOLDER + parts[index][end:]
    return "/".join(parts), int(match.group(2))


@dataclass
class PageIndex:
    """Orderings of one pages dict, built once and then only read."""

    tabs: dict[str, list[str]] = field(default_factory=dict)
    kinds: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    kind_of: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def build(cls, names: Iterable[str]) -> PageIndex:
        """Group by tab (natural order) and by kind (run order; one page per run)."""
        index = cls()
        for name in sorted(names, key=natural_key):
            index.tabs.setdefault(tab_of(name), []).append(name)
            kind = page_kind(name)
            if kind is not None:
                index.kind_of[name] = kind
                index.kinds.setdefault(kind[0], []).append((kind[1], name))
        for runs in index.kinds.values():
            runs.sort(key=lambda item: item[0])  # stable: natural order within a run
            runs[:] = [item for i, item in enumerate(runs) if i == 0 or runs[i - 1][0] != item[0]]
        return index

    @cached_property
    def grouped_tabs(self) -> tuple[list[str], list[str]]:
        """:func:`group_tabs` of this index's tabs, computed once."""
        return group_tabs(self.tabs)

    def neighbour(self, display_name: str, step: int) -> str | None:
        """The page of the same kind ``step`` runs away (missing runs skipped), or None.

        Works for a page that was just deleted too, so "next" still leads on from it.
        """
        kind = self.kind_of.get(display_name) or page_kind(display_name)
        if kind is None or step == 0:
            return None
        runs = self.kinds.get(kind[0], [])
        position = bisect_left(runs, kind[1], key=lambda item: item[0])
        present = position < len(runs) and runs[position][0] == kind[1]
        # A page that is gone still has neighbours: its run's slot is ``position``.
        position += step if present or step < 0 else step - 1
        return runs[position][1] if 0 <= position < len(runs) else None

    def latest_of_kind(self, display_name: str) -> str | None:
        """The newest run's page of the same kind (the page itself when it is newest)."""
        kind = self.kind_of.get(display_name) or page_kind(display_name)
        runs = self.kinds.get(kind[0]) if kind is not None else None
        return runs[-1][1] if runs else None


_INDEXES: SharedCache[PageIndex] = SharedCache(size=_CACHE_SIZE)


def page_index(pages: Mapping[str, Any]) -> PageIndex:
    """The index of ``pages``, built on first use of that dict object.

    Keyed by identity: ``Experiment`` never mutates a published pages dict, it
    publishes a new one.
    """
    return _INDEXES.get(pages, (), lambda _old: PageIndex.build(pages))


def pages_in_tab(pages: Mapping[str, Any], tab: str) -> list[str]:
    """display_names of one tab, in natural order."""
    return page_index(pages).tabs.get(tab, [])


def neighbour(pages: Mapping[str, Any], display_name: str, step: int) -> str | None:
    """Previous (``step=-1``) or next (``+1``) run's page of the same kind, or None."""
    return page_index(pages).neighbour(display_name, step)


def latest_of_kind(pages: Mapping[str, Any], display_name: str) -> str | None:
    """The newest run's page of ``display_name``'s kind, or None for a page without a run."""
    return page_index(pages).latest_of_kind(display_name)
