"""bench.writer applies the pages a pull would hand the writer, and reports per run."""

from __future__ import annotations

from bench.shop import SyntheticShop
from bench.writer import mapped_pages, run


def test_a_reread_hands_the_writer_only_the_changed_records_with_their_payload_hashes() -> None:
    shop = SyntheticShop.of(600, 250)
    first = mapped_pages(shop)
    shop.version = 2
    changed = mapped_pages(shop, only_changed=True)
    assert [len(p.records) for p in first] == [250, 250, 100]
    assert [p.page.cursor for p in first] == ["250", "500", "600"]
    assert [[m.external_id for m in p.records] for p in changed] == [
        ["100", "200"],
        ["300", "400", "500"],
        ["600"],
    ]
    assert all(p.raw_hashes.keys() == {m.external_id for m in p.records} for p in changed)
    assert all(all(p.raw_hashes.values()) for p in first)


def test_each_run_is_reported() -> None:
    result = run(300, 100, runs=2)
    assert len(result["first_pull_us_per_record"]) == 2
    assert len(result["reread_us_per_record"]) == 2
    assert all(us > 0 for us in result["first_pull_us_per_record"])
