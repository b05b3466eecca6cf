"""The run a label or a summary page name stands for: the one place that reads runs from text.

LUTE keeps a run as the text it was launched with (``'12'``, ``'0012'``,
``'r0012'``), and summary page names carry a run in one of their parts
(``r0012/powders``, ``XAS/0012_XAS``, ``Übersicht/Probenhalter r0031``).  The
grid, the table, the page links and previous/next run must agree on which run
each of them is, so all of them read it here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

#: A text that is a run and nothing else: ``r0012``, ``r12``, ``run_12``, ``R0012``, ``0012``.
_WHOLE_RUN = re.compile(r"^\s*((?:r(?:un)?[_-]?)?0*(\d+))\s*$", re.IGNORECASE)

#: How one part of a display_name names its run, tried in this order: group 1 is
#: the run token (``page_index`` replaces it to make a page's kind), group 2 its number.
RUN_PATTERNS = (
    _WHOLE_RUN,                                              # r0012, run_12, 0012
    re.compile(r"^\s*(0*(\d+))(?:[_ -].*)?$"),                # 0012_XAS
    re.compile(r"^.*[ _-](r0*(\d+))\s*$", re.IGNORECASE),    # "Probenhalter r0031"
)


@functools.lru_cache(maxsize=1 << 16)  # every row asks; a run's label repeats
def run_key(run: str) -> int | str:
    """'12', '0012', 'r0012' and 'run_12' are one run: 12.  Other labels stay text.

    The key sorts runs numerically and merges the spellings of one run, so a
    row stored as '0012' and an event sent as 'r12' fill the same cell.
    """
    text = str(run)
    match = _WHOLE_RUN.match(text)
    return int(match.group(2)) if match else text.strip()


def label_run(label: str) -> int | None:
    """The run a label stands for when the whole label is a run (a tab ``r0012``), else None."""
    key = run_key(label)
    return key if isinstance(key, int) else None


def find_run(parts: Sequence[str]) -> tuple[int, re.Match[str]] | None:
    """``(index, match)`` of the last part of a name that names a run, or None.

    The last part wins: in ``calib/r0003/gain/r0030`` the page is run 30's.
    """
    for index in range(len(parts) - 1, -1, -1):
        for pattern in RUN_PATTERNS:
            match = pattern.match(parts[index])
            if match:
                return index, match
    return None
