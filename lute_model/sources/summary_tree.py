"""Watch ``stats/summary/``: every folder holding a ``report.html`` is a summary page.

The tree sits on the facility's shared file server and can hold tens of
thousands of folders, so after the first walk a refresh looks at a bounded
number of folders, whatever the size of the tree (a poll costs what changed):

- the root, whose listing changes when a new tab (``r0013``) appears;
- folders that changed recently (at a beamline each run adds pages under the
  same few parents) and folders named by new database rows or journal events
  (``hints``), with their nearest known ancestor;
- a few more from a slow sweep that goes round every folder in turn and
  catches the rest (a page nobody named, a page rewritten in place).

A folder is re-listed only when its mtime moved.  The walk never follows a
symlinked folder, and accepts a symlinked report only when it resolves inside
the tree, so a link cannot make us read (or later serve) a file outside it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable
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
#: Folders the sweep looks at per refresh: the sweep goes round a tree of N
#: folders in N / SWEEP_PER_REFRESH refreshes.
SWEEP_PER_REFRESH = 32
#: A folder whose listing changed within this many seconds is looked at every refresh.
RECENT_SECONDS = 600.0
RECENT_KEPT = 64
#: A tree with no change for this long (a finished experiment) sweeps only every
#: DORMANT_SWEEP_EVERY-th refresh; its root, recent and named folders are still looked at.
DORMANT_SECONDS = 300.0
DORMANT_SWEEP_EVERY = 8


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


class SummaryTreeReader:
    """The pages below one summary root, kept up to date at a bounded cost per refresh."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._root_text = str(self.root)
        self._folders: dict[str, _Folder] = {}  # relative posix path ("" = root) -> listing
        self._pages: dict[str, SummaryPage] = {}
        self._problems: dict[str, Problem] = {}
        self._recent: dict[str, float] = {}  # rel -> monotonic time its listing changed
        self._sweep: deque[str] = deque()
        self._refreshes = 0
        # When the tree last changed (wall clock): at the first walk, its newest folder's
        # mtime, so that the tree of a finished experiment is dormant from the start.
        self._changed_at = 0.0
        # What this refresh found: display_name -> page (None: gone).
        self._found: dict[str, SummaryPage | None] = {}

    def pages(self) -> dict[str, SummaryPage]:
        return dict(self._pages)

    def refresh(self, hints: Iterable[str] = ()) -> TreeDelta:
        """Look at what may have changed (see the module); ``hints`` are display names a new
        row or event named.  Never raises."""
        delta = TreeDelta()
        self._found = {}
        try:
            root_stat = os.stat(self.root)
        except OSError as err:
            delta.removed = sorted(self._pages)
            self._forget()
            delta.problems.append(Problem(str(self.root), _missing_message(err)))
            return delta
        if not os.path.isdir(self.root):
            delta.problems.append(Problem(str(self.root), "the summary folder is a file."))
            return delta
        self._refreshes += 1
        self._look("", root_stat.st_mtime_ns, restat=False)
        for rel in self._to_look_at(hints):
            if rel in self._folders:
                self._check(rel)
        if self._found and self._refreshes > 1:
            self._changed_at = time.time()
        elif self._refreshes == 1:
            self._changed_at = max((f.mtime_ns for f in self._folders.values()), default=0) / 1e9
        delta.changed = [page for page in self._found.values() if page is not None]
        delta.removed = sorted(name for name, page in self._found.items() if page is None)
        delta.problems = list(self._problems.values())
        return delta

    def _path(self, rel: str) -> str:
        """A folder's path as text (``Path`` objects cost more than the stat, per poll)."""
        return f"{self._root_text}/{rel}"

    def _forget(self) -> None:
        self._folders.clear()
        self._pages.clear()
        self._problems.clear()
        self._recent.clear()
        self._sweep.clear()

    # -- what to look at -------------------------------------------------------

    def _to_look_at(self, hints: Iterable[str]) -> list[str]:
        """Recent folders, the nearest known folder of each hint, and the sweep's next few."""
        now = time.monotonic()
        for rel, when in list(self._recent.items()):
            if now - when > RECENT_SECONDS:
                del self._recent[rel]
        chosen = dict.fromkeys(self._recent)
        for name in hints:
            rel = name.strip("/")
            while rel and rel not in self._folders:
                rel = rel.rpartition("/")[0]
            if rel:
                chosen[rel] = None
        dormant = time.time() - self._changed_at > DORMANT_SECONDS
        if not dormant or self._refreshes % DORMANT_SWEEP_EVERY == 0:
            for _ in range(min(SWEEP_PER_REFRESH, len(self._folders))):
                if not self._sweep:
                    self._sweep.extend(self._folders)  # a new round
                chosen[self._sweep.popleft()] = None
        chosen.pop("", None)  # looked at already
        return list(chosen)

    def _check(self, rel: str) -> None:
        """Look at one known folder: gone, changed (re-list), or its page rewritten."""
        try:
            stat = os.stat(self._path(rel), follow_symlinks=False)
        except OSError:
            self._drop(rel)
            parent = rel.rpartition("/")[0]
            self._mark_recent(parent)
            return
        self._look(rel, stat.st_mtime_ns, restat=True)

    def _mark_recent(self, rel: str) -> None:
        """Look at this folder every refresh for a while; the oldest such goes past a bound."""
        self._recent[rel] = time.monotonic()
        if len(self._recent) > RECENT_KEPT:
            del self._recent[min(self._recent, key=self._recent.__getitem__)]

    def _look(self, rel: str, mtime_ns: int, restat: bool) -> None:
        folder = self._folders.get(rel)
        if folder is None or not folder.current(mtime_ns):
            self._relist(rel, mtime_ns, folder)
        elif restat and folder.page is not None:
            page = self._restat(folder.page)
            self._update_page(folder.page, page)
            folder.page = page

    # -- listing ---------------------------------------------------------------

    def _relist(self, rel: str, mtime_ns: int, before: _Folder | None) -> None:
        """List a folder again; walk what is new below it, drop what went away."""
        folder = self._list(rel, mtime_ns)
        self._folders[rel] = folder
        self._mark_recent(rel)
        self._update_page(before.page if before else None, folder.page)
        old = set(before.subfolders) if before else set()
        for name in old - set(folder.subfolders):
            self._drop(f"{rel}/{name}" if rel else name)
        new = [f"{rel}/{name}" if rel else name for name in folder.subfolders if name not in old]
        self._walk(new)

    def _walk(self, rels: list[str]) -> None:
        """List new folders and everything below them (iteratively: deep trees are fine)."""
        stack = list(rels)
        while stack:
            rel = stack.pop()
            try:
                stat = os.stat(self._path(rel), follow_symlinks=False)
            except OSError:
                continue  # deleted since the listing
            folder = self._list(rel, stat.st_mtime_ns)
            self._folders[rel] = folder
            if not folder.current(stat.st_mtime_ns):
                self._mark_recent(rel)  # still being written: look again soon
            self._update_page(None, folder.page)
            stack += [f"{rel}/{name}" for name in folder.subfolders]

    def _drop(self, rel: str) -> None:
        """Forget a folder that went away, and everything below it."""
        stack = [rel]
        while stack:
            key = stack.pop()
            gone = self._folders.pop(key, None)
            self._recent.pop(key, None)
            if gone is not None:
                self._update_page(gone.page, None)
                stack += [f"{key}/{name}" for name in gone.subfolders]
        prefix = f"{rel}/"
        for key in [k for k in self._problems if k == rel or k.startswith(prefix)]:
            del self._problems[key]

    def _update_page(self, old: SummaryPage | None, new: SummaryPage | None) -> None:
        """A folder's page went from ``old`` to ``new``: keep the index and note the change."""
        if old is not None and (new is None or new.display_name != old.display_name):
            self._pages.pop(old.display_name, None)
            self._found[old.display_name] = None
        if new is not None and self._pages.get(new.display_name) != new:
            self._pages[new.display_name] = new
            self._found[new.display_name] = new

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
