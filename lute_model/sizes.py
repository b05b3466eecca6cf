"""Byte counts as a person reads them: the one way every view and the server write a size.

Summary pages, summaries and payloads run from a few bytes to tens of
megabytes; the same size must read the same in the page list, the Task detail
and the server's "too large" page.
"""

from __future__ import annotations

_UNITS = (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10))


def size_text(size: int, exact: bool = True) -> str:
    """``'312.5 kB (320,000 bytes)'``; ``exact=False`` drops the count: ``'312.5 kB'``.

    One decimal, none when it is 0 (``'1 MB'``, as limits are written); sizes
    under a kilobyte are counted in bytes either way.
    """
    for unit, scale in _UNITS:
        if size >= scale:
            short = f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
            return f"{short} ({size:,} bytes)" if exact else short
    return f"{size:,} bytes"
