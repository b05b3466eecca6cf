"""Find experiments: which folders hold LUTE results, without walking raw-data trees.

The rule, for each PATH given:

1. PATH is an experiment when it *plainly* is one: it has ``stats/summary/``, or
   ``lute.db`` in it or one folder below (``work_dir/lute.db``, ``scratch/lute.db``).
2. Otherwise, when child folders plainly are experiments, PATH is a folder of
   experiments and each of those children is one.
3. Otherwise PATH is an experiment when a ``lute.db`` lies up to three folder
   levels below it (``scratch/user/lute/lute.db``).

Below an experiment only
those three levels are looked at, hidden folders and the facility's raw-data
folders (:data:`RAW_DATA_DIRS`) are skipped, and a folder with more than
:data:`MAX_LISTING` entries is not listed at all: no search ever descends into
the millions of files of an experiment's ``xtc``/``hdf5`` trees.  A folder that
is not an experiment itself is a folder of experiments: each child folder is
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from lute_model.problems import Problem

DB_NAME = "lute.db"
SUMMARY_SUBDIR = Path("stats", "summary")
DB_DEPTH = 3
MAX_LISTING = 2000
RAW_DATA_DIRS = frozenset({"xtc", "xtc2", "hdf5", "smalldata", "calib", "raw", "ffb",
                           "stats", "results", "logs", "node_modules", "__pycache__"})


@dataclass
class ExperimentSource:
    """Where one experiment's results are: its databases and its summary folder."""

    name: str
    root: Path | None
    databases: list[Path] = field(default_factory=list)
    summary_dir: Path | None = None


def _subfolders(path: Path) -> list[Path]:
    """Child folders worth a look; none when the folder is too large to list."""
    try:
        with os.scandir(path) as it:
            entries = list(islice(it, MAX_LISTING + 1))
    except OSError:
        return []
    if len(entries) > MAX_LISTING:
        return []
    return sorted(
        Path(e.path) for e in entries
        if not e.name.startswith(".") and e.name not in RAW_DATA_DIRS
        and e.is_dir(follow_symlinks=False)
    )


def find_databases(root: Path, depth: int = DB_DEPTH) -> list[Path]:
    """``lute.db`` files in ``root`` and up to ``depth`` levels below it."""
    found: list[Path] = []
    level = [root]
    for current_depth in range(depth + 1):
        next_level: list[Path] = []
        for folder in level:
            candidate = folder / DB_NAME
            if candidate.is_file():
                found.append(candidate)
            if current_depth < depth:
                next_level.extend(_subfolders(folder))
        level = next_level
    return found


def _as_experiment(path: Path, depth: int) -> ExperimentSource | None:
    """``path`` as an experiment, when it has a summary folder or a ``lute.db`` within ``depth``."""
    summary = path / SUMMARY_SUBDIR
    has_summary = summary.is_dir()
    databases = find_databases(path, depth)
    if not databases and not has_summary:
        return None
    return ExperimentSource(path.resolve().name, path, find_databases(path) if has_summary
                            else databases, summary if has_summary else None)


def discover(paths: list[str | os.PathLike], db: list[str | os.PathLike] | None = None,
             summary_dir: str | os.PathLike | None = None
             ) -> tuple[list[ExperimentSource], list[Problem]]:
    """The experiments named by the command line, and why any path gave none.

    ``db`` and ``summary_dir`` name one experiment's files explicitly; when
    given with a single PATH they override what discovery finds there.
    """
    experiments: list[ExperimentSource] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problems.append(Problem(str(path), "path does not exist."))
            continue
        if path.is_file():
            problems.append(Problem(str(path),
                                    "a file, not a folder: use --db for a database file."))
            continue
        found = _as_experiment(path, depth=1)
        if found is not None:
            experiments.append(found)
            continue
        children = [e for c in _subfolders(path) if (e := _as_experiment(c, depth=1)) is not None]
        if not children:
            deep = _as_experiment(path, depth=DB_DEPTH)
            children = [deep] if deep is not None else []
        if not children:
            problems.append(Problem(str(path), "no LUTE results here: no lute.db (up to 3 levels "
                                    "down) and no stats/summary folder, nor in its subfolders."))
        experiments.extend(children)
    if db or summary_dir:
        explicit = experiments[0] if len(experiments) == 1 else None
        if explicit is None:
            anchor = Path(summary_dir).parent.parent if summary_dir else Path(db[0]).parent
            explicit = ExperimentSource(anchor.resolve().name, None)
            experiments.append(explicit)
        if db:
            explicit.databases = [Path(d) for d in db]
        if summary_dir:
            explicit.summary_dir = Path(summary_dir)
    return experiments, problems
