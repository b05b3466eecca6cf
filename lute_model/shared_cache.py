"""Values built once per shared state and shared by every session that asks.

What every session shows alike (a grid's columns, a table's frame, a feed's
HTML, a page index, the status counts) is derived from an object the refresh
thread publishes and never changes in place (an ``Experiment``'s current
state, a ``pages`` dict).  The first session to ask builds the value; the
others get the same one until that state is replaced.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")
#: What a value was built from: objects compared by identity (a published state is
#: replaced, never changed), numbers by value (a clock's second).
State = tuple[Any, ...]
#: name -> (the state a value was built from, the value)
Entries = dict[Hashable, tuple[State, V]]


def _same(built_from: State, state: State) -> bool:
    return len(built_from) == len(state) and all(
        old is new or (isinstance(new, (int, float)) and old == new)
        for old, new in zip(built_from, state, strict=True))


class SharedCache(Generic[V]):
    """One value per owner (and name), rebuilt when the state it was built from changes.

    ``size=None``: owners are held weakly, and an entry goes with its owner (an
    ``Experiment`` that is closed).  ``size=N``: owners are held by identity,
    kept alive with their entry so that their ``id`` cannot be reused, at most
    ``N`` of them (the oldest go first): for plain dicts, which cannot be
    weakly referenced.  Builds run under the cache's lock, so that one state is
    built once however many sessions ask at the same moment.
    """

    def __init__(self, size: int | None = None) -> None:
        self._size = size
        self._weak: weakref.WeakKeyDictionary[Any, Entries[V]] = weakref.WeakKeyDictionary()
        self._held: OrderedDict[int, tuple[Any, Entries[V]]] = OrderedDict()
        self._lock = threading.RLock()  # a build may ask this cache for another name

    def get(self, owner: Any, state: State, build: Callable[[V | None], V],
            name: Hashable = None) -> V:
        """The value of ``owner``'s ``state``; ``build(previous value or None)`` makes it."""
        with self._lock:
            entries = self._owned(owner)
            cached = entries.get(name)
            if cached is not None and _same(cached[0], state):
                return cached[1]
            value = build(None if cached is None else cached[1])
            entries[name] = (state, value)
            return value

    def put(self, owner: Any, state: State, value: V, name: Hashable = None) -> None:
        """Store a value made elsewhere (counts updated by what changed, not recounted)."""
        with self._lock:
            self._owned(owner)[name] = (state, value)

    def _owned(self, owner: Any) -> Entries[V]:
        if self._size is None:
            return self._weak.setdefault(owner, {})
        held = self._held.get(id(owner))
        if held is None or held[0] is not owner:
            while len(self._held) >= self._size:
                self._held.popitem(last=False)
            held = self._held[id(owner)] = (owner, {})
        return held[1]
