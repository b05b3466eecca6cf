"""Walk ``stats/summary/``: every folder holding a ``report.html`` is a summary page.

The walk never follows a symlinked folder, and accepts a symlinked report only
when it resolves inside the tree, so a link cannot make us read (or later
serve) a file outside the summary root.  Folder mtimes let a refresh re-list
only the folders that changed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from lute_model.paths import is_inside
from lute_model.problems import Problem
from lute_model.summaries import REPORT_FILE, DisplayName, InvalidDisplayName


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """One report page on disk."""

    display_name: str
    tab: str
    page: str
    report: Path
    size: int
    mtime: float
    run: int | None

    @property
    def empty(self) -> bool:
        return self.size == 0


#: A folder changed this close to when we listed it may change again within the
#: same clock tick without its mtime moving (a page written to a temporary file,
#: then renamed): such a folder is listed again until it is older than this.
RACY_NS = 2_000_000_000
#: Every this many refreshes the reports themselves are looked at too, which
#: catches a page rewritten in place (its folder's mtime does not change).
RESTAT_EVERY = 10


@dataclass
class _Folder:
    mtime_ns: int
    subfolders: list[str]
    page: SummaryPage | None
    listed_ns: int = 0

    def current(self, mtime_ns: int) -> bool:
        """Whether this listing still describes a folder of that mtime."""
        return self.mtime_ns == mtime_ns and self.listed_ns - mtime_ns > RACY_NS


@dataclass
class TreeDelta:
    """Pages added or changed (by display_name), pages gone, and what could not be read."""

    changed: list[SummaryPage] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ok: bool = True


class SummaryTreeReader:
    """The pages below one summary root, refreshed by folder mtimes."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._folders: dict[str, _Folder] = {}  # relative posix path ("" = root) -> listing
        self._problems: dict[str, Problem] = {}
        self._refreshes = 0

    def pages(self) -> dict[str, SummaryPage]:
        return {f.page.display_name: f.page for f in self._folders.values() if f.page is not None}

    def refresh(self) -> TreeDelta:
        """Walk the tree, re-listing only folders whose mtime changed.  Never raises."""
        before = self.pages()
        delta = TreeDelta()
        try:
            root_stat = os.stat(self.root)
        except OSError as err:
            self._folders.clear()
            delta.removed = sorted(before)
            delta.ok = False
            delta.problems.append(Problem(str(self.root), _missing_message(err)))
            return delta
        if not os.path.isdir(self.root):
            delta.ok = False
            delta.problems.append(Problem(str(self.root), "the summary folder is a file."))
            return delta
        seen: set[str] = set()
        self._refreshes += 1
        self._visit("", root_stat.st_mtime_ns, seen, self._refreshes % RESTAT_EVERY == 0)
        for gone in set(self._folders) - seen:
            del self._folders[gone]
            self._problems.pop(gone, None)
        after = self.pages()
        delta.changed = [page for name, page in after.items() if before.get(name) != page]
        delta.removed = sorted(set(before) - set(after))
        delta.problems = list(self._problems.values())
        return delta

    def _visit(self, rel: str, mtime_ns: int, seen: set[str], restat: bool) -> None:
        """Visit one folder (iteratively below, so deep trees cannot overflow the stack)."""
        stack = [(rel, mtime_ns)]
        while stack:
            rel, mtime_ns = stack.pop()
            seen.add(rel)
            folder = self._folders.get(rel)
            if folder is None or not folder.current(mtime_ns):
                folder = self._list(rel, mtime_ns)
                self._folders[rel] = folder
            elif restat and folder.page is not None:
                folder.page = self._restat(folder.page)
            for name in folder.subfolders:
                child = f"{rel}/{name}" if rel else name
                try:
                    child_stat = os.stat(self.root / child, follow_symlinks=False)
                except OSError:
                    continue  # deleted since the listing: gone at the next refresh
                stack.append((child, child_stat.st_mtime_ns))

    @staticmethod
    def _restat(page: SummaryPage) -> SummaryPage | None:
        try:
            stat = os.stat(page.report)
        except OSError:
            return None
        if (stat.st_size, stat.st_mtime) == (page.size, page.mtime):
            return page
        return replace(page, size=stat.st_size, mtime=stat.st_mtime)

    def _list(self, rel: str, mtime_ns: int) -> _Folder:
        folder = _Folder(mtime_ns, [], None, time.time_ns())
        self._problems.pop(rel, None)
        path = self.root / rel if rel else self.root
        try:
            entries = list(os.scandir(path))
        except OSError as err:
            self._problems[rel] = Problem(str(path), f"folder cannot be listed: {err.strerror}.")
            return folder
        for entry in entries:
            if entry.name == REPORT_FILE and rel:
                folder.page = self._page(rel, entry)
            elif entry.is_symlink():
                if entry.is_dir() and not is_inside(self.root, entry.path):
                    self._problems[f"{rel}/{entry.name}"] = Problem(
                        entry.path, "symlink to a folder outside the summary tree; not followed.")
            elif entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                folder.subfolders.append(entry.name)
        return folder

    def _page(self, rel: str, entry: os.DirEntry) -> SummaryPage | None:
        try:
            name = DisplayName.parse(rel)
        except InvalidDisplayName as err:
            self._problems[rel] = Problem(entry.path, f"page skipped: {err}.")
            return None
        if entry.is_symlink() and not is_inside(self.root, entry.path):
            self._problems[rel] = Problem(
                entry.path, "report.html is a symlink to a file outside the summary tree; skipped.")
            return None
        if entry.is_dir():
            self._problems[rel] = Problem(entry.path,
                                          "report.html is a folder, not a page; skipped.")
            return None
        try:
            stat = entry.stat()
        except OSError as err:
            self._problems[rel] = Problem(entry.path, f"report cannot be read: {err.strerror}.")
            return None
        return SummaryPage(name.path, name.tab, name.page, Path(entry.path), stat.st_size,
                           stat.st_mtime, name.run)


def _missing_message(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "no summary folder (stats/summary): no summary pages to show yet."
    return f"summary folder cannot be read: {err.strerror}."
