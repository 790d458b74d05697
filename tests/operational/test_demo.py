"""The demo group: deterministic for a seed, realistic names, scales to 500 offices."""

from __future__ import annotations

from operational.demo import org_rows


def test_same_seed_same_group_and_another_seed_another() -> None:
    assert org_rows(30, seed=7) == org_rows(30, seed=7)
    assert org_rows(30, seed=7) != org_rows(30, seed=8)


def test_five_hundred_offices_with_unique_codes_and_chinese_names() -> None:
    rows = [values for _, values in org_rows(500, seed=7)]
    codes = [r["office_code"] for r in rows]
    assert len(set(codes)) == 500
    assert len({r["city_code"] for r in rows}) == 17
    assert all(r["office_name"].endswith("管理处") for r in rows)
    assert any(r["timezone"] == "Asia/Urumqi" for r in rows)
