"""gc_paused (perception/insights/allocation.py): the collector is off inside, back as it was after,
and what was built inside is not scanned all at once by the first young collection after."""

import gc

import pytest

from perception.insights.allocation import gc_paused

pytestmark = pytest.mark.pure


class Node:
    def __init__(self):
        self.other = None


def test_the_collector_is_paused_inside_and_back_as_it_was_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()


def test_what_was_built_inside_leaves_the_young_generation_unscanned_and_cycles_are_still_collected():
    gc.collect()
    with gc_paused():
        built = [Node() for _ in range(50_000)]
        cycle = Node()
        cycle.other = cycle
    assert len(gc.get_objects(generation=0)) < 1_000  # moved on, not left for a young collection to scan
    assert built[-1] in gc.get_objects(generation=2)
    del cycle
    assert gc.collect() >= 1  # a full collection still finds the cycle made inside
