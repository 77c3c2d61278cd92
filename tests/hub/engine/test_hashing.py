"""Hub ids sort by creation time and never collide, so index inserts append."""

from __future__ import annotations

import os
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


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    """The low bits come from a per-process seed and counter: a child gets its own seed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id's low bits, to the parent
        os.write(write, new_hub_id()[12:].encode())
        os._exit(0)
    os.close(write)
    mine = new_hub_id()[12:]
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        theirs = pipe.read()
    assert len(theirs) == 20 and theirs != mine
