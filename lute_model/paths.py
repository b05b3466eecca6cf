"""The one guarded join: every reader and route that turns a name into a path uses it."""

from __future__ import annotations

import os
from pathlib import Path


class UnsafePath(ValueError):
    """A name that would leave its root, or could not name a file there."""


def safe_join(root: str | os.PathLike, *parts: str) -> Path:
    """``root/part/...``, guaranteed to stay inside ``root`` after symlinks are resolved.

    Rejects NUL, backslashes, absolute parts and ``..``; then resolves the
    result and checks it is ``root`` itself or below it *as a path* (so that
    ``summary_old`` is not "inside" ``summary`` the way a string prefix test
    would have it).  A symlink or hard link may exist inside the root, but a
    symlink that points out of it is refused.
    """
    base = Path(root).resolve()
    pieces: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise UnsafePath(f"path part is not text: {part!r}")
        if "\x00" in part or "\\" in part:
            raise UnsafePath("path contains NUL or a backslash")
        for piece in part.split("/"):
            if piece in ("", "."):
                continue
            if piece == "..":
                raise UnsafePath("path contains '..'")
            pieces.append(piece)
    if pieces and os.path.isabs(pieces[0]):
        raise UnsafePath("path is absolute")
    candidate = base.joinpath(*pieces)
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as err:  # too long, symlink loop
        raise UnsafePath(f"path cannot be resolved: {err}") from None
    if resolved != base and base not in resolved.parents:
        raise UnsafePath("path leaves its root")
    return resolved


def is_inside(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path`` (symlinks resolved) is ``root`` or below it."""
    base = Path(root).resolve()
    resolved = Path(path).resolve()
    return resolved == base or base in resolved.parents
