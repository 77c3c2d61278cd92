"""Hub ids sort by creation time and never collide, so index inserts append."""

from __future__ import annotations

import time

from hub.engine.hashing import new_hub_id


def test_ids_made_later_sort_after_earlier_ones() -> None:
    earlier = new_hub_id()
    time.sleep(0.002)
    assert new_hub_id() > earlier


def test_ids_made_in_the_same_millisecond_are_distinct_and_well_formed() -> None:
    ids = [new_hub_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
