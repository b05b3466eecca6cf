"""SharedCache: one value per shared state, for every session that asks."""

from __future__ import annotations

import gc

from lute_model.shared_cache import SharedCache


class Owner:
    """Stands in for an Experiment: weakly referenceable."""


def test_a_value_is_built_once_per_state_and_rebuilt_from_the_previous_one():
    cache: SharedCache[list[int]] = SharedCache()
    owner, first, second = Owner(), object(), object()
    built = cache.get(owner, (first,), lambda old: [1])
    assert cache.get(owner, (first,), lambda old: [2]) is built
    assert cache.get(owner, (second,), lambda old: [*(old or []), 2]) == [1, 2]


def test_numbers_in_a_state_compare_by_value_objects_by_identity():
    cache: SharedCache[str] = SharedCache()
    owner = Owner()
    cache.get(owner, ([], 10**6), lambda old: "a")
    assert cache.get(owner, ([], 10**6), lambda old: "b") == "b"  # another (equal) list
    rows: list[int] = []
    cache.get(owner, (rows, 10**6), lambda old: "c")
    assert cache.get(owner, (rows, int("1000000")), lambda old: "d") == "c"


def test_names_keep_values_of_one_owner_apart():
    cache: SharedCache[str] = SharedCache()
    owner = Owner()
    assert cache.get(owner, (), lambda old: "200", name=200) == "200"
    assert cache.get(owner, (), lambda old: "all", name=None) == "all"
    assert cache.get(owner, (), lambda old: "again", name=200) == "200"


def test_a_weak_entry_goes_with_its_owner():
    cache: SharedCache[str] = SharedCache()
    owner = Owner()
    cache.get(owner, (), lambda old: "x")
    del owner
    gc.collect()
    assert len(cache._weak) == 0


def test_a_bounded_cache_keeps_its_newest_owners_alive_and_drops_the_oldest():
    cache: SharedCache[int] = SharedCache(size=2)
    pages = [{"p": i} for i in range(3)]
    for i, owner in enumerate(pages):
        cache.get(owner, (), lambda old, i=i: i)
    assert cache.get(pages[2], (), lambda old: -1) == 2
    assert cache.get(pages[0], (), lambda old: -1) == -1  # dropped: built again


def test_a_stored_value_is_what_the_next_reader_of_that_state_gets():
    cache: SharedCache[dict[str, int]] = SharedCache()
    owner, latest = Owner(), {}
    cache.put(owner, (latest,), {"DONE": 3})
    assert cache.get(owner, (latest,), lambda old: {}) == {"DONE": 3}
