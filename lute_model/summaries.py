"""Summary pages: ``DisplayName`` (tab / page / path, validated) and ``ElogSummaryPlots``.

LUTE's ``display_name`` is both the eLog location and the folder of the page on
disk: ``"scans/my_motor_scan"`` is the page ``my_motor_scan`` in the tab
``scans``, stored at ``stats/summary/scans/my_motor_scan/report.html``.  A name
comes from analysis code and from the file system, so it is untrusted: every
name that becomes a path is validated here, once.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lute_model.runs import find_run

REPORT_FILE = "report.html"

#: A name without "/" has no tab of its own; the eLog shows such pages in a
#: tab of this name, and so do we.
DEFAULT_TAB = "Summary"

#: Longest display name we accept (bytes, UTF-8): longer ones cannot be a
#: path on the file systems LUTE writes to (PATH_MAX is 4096).
MAX_NAME_BYTES = 1024


class InvalidDisplayName(ValueError):
    """A display_name that cannot safely name a folder below the summary root."""


def tab_of(display_name: str) -> str:
    """The eLog tab of a display_name: its first part, or DEFAULT_TAB for a name of one part.

    Takes plain text, not a :class:`DisplayName`: the page index and the views
    ask it of every name they list, which were validated when they were read.
    """
    head, sep, _ = display_name.partition("/")
    return head if sep else DEFAULT_TAB


@dataclass(frozen=True, order=True)
class DisplayName:
    """A validated display_name, split into the eLog's tab and page.

    ``tab`` is the first part, ``page`` the rest joined by ``/`` (deeper paths
    keep their nesting: ``a/b/c`` is page ``b/c`` of tab ``a``).  A name with a
    single part is the page of that name in the tab :data:`DEFAULT_TAB`, which
    is also where such a folder sits on disk: directly under the summary root.
    """

    path: str

    @classmethod
    def parse(cls, raw: str) -> DisplayName:
        """Validate ``raw``; raise :class:`InvalidDisplayName` with the reason."""
        if not isinstance(raw, str):
            raise InvalidDisplayName(f"display_name must be text, not {type(raw).__name__}")
        if not raw:
            raise InvalidDisplayName("display_name is empty")
        if "\x00" in raw:
            raise InvalidDisplayName("display_name contains a NUL character")
        if "\\" in raw:
            raise InvalidDisplayName(f"display_name contains a backslash: {raw[:200]!r}")
        if raw.startswith("/"):
            raise InvalidDisplayName(f"display_name is an absolute path: {raw[:200]!r}")
        if len(raw.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise InvalidDisplayName(f"display_name is longer than {MAX_NAME_BYTES} bytes")
        parts = raw.split("/")
        for part in parts:
            if part.strip() == "":
                raise InvalidDisplayName(f"display_name has an empty part: {raw[:200]!r}")
            if part in {".", ".."}:
                raise InvalidDisplayName(f"display_name contains {part!r}: {raw[:200]!r}")
        if not raw.isprintable() and any(unicodedata.category(ch) == "Cc" for ch in raw):
            raise InvalidDisplayName(f"display_name contains a control character: {raw[:200]!r}")
        return cls(raw)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def tab(self) -> str:
        return tab_of(self.path)

    @property
    def page(self) -> str:
        parts = self.parts
        return "/".join(parts[1:]) if len(parts) > 1 else parts[0]

    @property
    def run(self) -> int | None:
        """The run this page belongs to, read from its parts (last match wins)."""
        found = find_run(self.parts)
        return int(found[1].group(2)) if found else None

    def report_path(self, summary_root: str | os.PathLike) -> Path:
        """Where this page's report lives below ``summary_root``."""
        return Path(summary_root, *self.parts, REPORT_FILE)

    def __str__(self) -> str:
        return self.path


def split_report_path(path: str) -> tuple[str, str] | None:
    """``(owner, display_name)`` of an absolute report path LUTE stored, or None.

    LUTE stores ``/sdf/data/lcls/ds/{hutch}/{experiment}/stats/summary/{name}/report.html``;
    ``owner`` is the folder above ``stats`` (the experiment).  Plain string work:
    this runs once per database row.
    """
    text = path.strip()
    suffix = "/" + REPORT_FILE
    marker = "/stats/summary/"
    at = text.find(marker)
    if not text.startswith("/") or at < 0 or not text.endswith(suffix):
        return None
    name = text[at + len(marker): -len(suffix)]
    try:
        name = DisplayName.parse(name).path
    except InvalidDisplayName:
        return None
    return text[:at].rsplit("/", 1)[-1], name


def display_name_of_report(path: str, experiment: str | None = None) -> str | None:
    """The display_name in an absolute report path LUTE stored, or None.

    The facility prefix means nothing on another machine, so only the part
    after ``stats/summary/`` is kept; when ``experiment`` is given, the path
    must belong to it.
    """
    found = split_report_path(path)
    if found is None or (experiment is not None and found[0] != experiment):
        return None
    return found[1]
