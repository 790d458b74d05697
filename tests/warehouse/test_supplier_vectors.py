"""The shared supplier score vectors (tests/vectors/supplier_score_vectors.json) through the SQL.

Each case becomes raw operational tables in a fresh DuckDB file, shaped as the extraction leaves
them from SQLite (text dates and instants, naive UTC; numbers as doubles), then the staging
models and ``marts.contract_scores`` / ``marts.supplier_ranking`` run. The operational core runs
the same vectors through :mod:`operational.suppliers`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.models import load_models, run_models, write_run_params

VECTORS = Path(__file__).parents[1] / "vectors" / "supplier_score_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
MARTS = ("marts.contract_scores", "marts.supplier_ranking")

RAW_TABLES = {
    "org_office": "id bigint, city_id bigint, code varchar, name varchar, timezone varchar",
    "supplier": "id bigint, group_id bigint, supplier_code varchar, name varchar,"
    " discipline varchar",
    "supplier_contract": "id bigint, contract_no varchar, supplier_id bigint, office_id bigint,"
    " discipline varchar, starts_on varchar, ends_on varchar, amount double",
    "supplier_deduction_standard": "id bigint, contract_id bigint, points bigint, amount double",
    "supplier_nonconformity": "id bigint, nc_no varchar, office_id bigint, kind varchar,"
    " discipline varchar, opened_at varchar, closed_at varchar, contract_id bigint,"
    " breach_points bigint, created_at varchar, version bigint",
    "supplier_score_entry": "id bigint, contract_id bigint, month varchar, item varchar,"
    " points double",
    # none here: the marts kept by key read the events a refresh brings (marts.contract_scores)
    "workflow_event": "id bigint, document_type varchar, document_id bigint, office_id bigint,"
    ' from_state varchar, to_state varchar, "at" timestamp',
}


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def utc_text(iso: str) -> str:
    return utc(iso).replace(tzinfo=None).isoformat(sep=" ")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence[Any]]) -> None:
    rows = list(rows)
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into raw.{table} values ({marks})", rows)


def models_for(tables: Iterable[str]) -> list[Any]:
    """The models ``tables`` need, dependencies first."""
    models = load_models()
    by_table = {m.table: m for m in models}
    wanted: set[str] = set()
    todo = list(tables)
    while todo:
        table = todo.pop()
        if table in by_table and table not in wanted:
            wanted.add(table)
            todo.extend(by_table[table].depends_on)
    return [m for m in models if m.table in wanted]


def load_case(con: duckdb.DuckDBPyConnection, case: dict[str, Any]) -> None:
    con.execute("create schema raw")
    for table, columns in RAW_TABLES.items():
        con.execute(f"create table raw.{table} ({columns})")
    offices = {code: n for n, code in enumerate(sorted(case["offices"]), start=1)}
    insert(con, "org_office", [(i, 1, c, c, case["offices"][c]) for c, i in offices.items()])
    suppliers = {
        code: n
        for n, code in enumerate(sorted({c["supplier_code"] for c in case["contracts"]}), start=1)
    }
    insert(
        con,
        "supplier",
        [(i, 1, code, f"供应商 {code}", "cleaning") for code, i in suppliers.items()],
    )
    contracts = {c["contract_no"]: n for n, c in enumerate(case["contracts"], start=1)}
    standard_id = 0
    for c in case["contracts"]:
        number = contracts[c["contract_no"]]
        insert(
            con,
            "supplier_contract",
            [
                (
                    number,
                    c["contract_no"],
                    suppliers[c["supplier_code"]],
                    offices[c["office_code"]],
                    c["discipline"],
                    c["starts_on"],
                    c["ends_on"],
                    1000.0,
                )
            ],
        )
        for points, amount in c["standard"].items():
            standard_id += 1
            insert(
                con,
                "supplier_deduction_standard",
                [(standard_id, number, int(points), float(amount))],
            )
    office_of = {c["contract_no"]: offices[c["office_code"]] for c in case["contracts"]}
    insert(
        con,
        "supplier_nonconformity",
        [
            (
                n,
                f"NC-{n}",
                office_of[nc["contract_no"]],
                "corrective_preventive",
                "cleaning",
                utc_text(nc["opened_at"]),
                None,
                contracts[nc["contract_no"]],
                nc["breach_points"],
                utc_text(nc["opened_at"]),
                1,  # never moved by the engine, as the go-live history's rows
            )
            for n, nc in enumerate(case["nonconformities"], start=1)
        ],
    )
    insert(
        con,
        "supplier_score_entry",
        [
            (n, contracts[s["contract_no"]], s["month"] + "-01", s["item"], float(s["points"]))
            for n, s in enumerate(case["scores"], start=1)
        ],
    )
    write_run_params(con, version="t", as_of=utc(case["as_of"]), database_backend="sqlite")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_case(con, case)
        run_models(con, models_for(MARTS))
        months = con.sql(
            "select contract_no, strftime(month, '%Y-%m'), nonconformities, breach_points,"
            " deduction_amount, manual_points, score from marts.contract_scores"
        ).fetchall()
        ranked = con.sql(
            "select period_type, period, discipline, supplier_code, contracts, score,"
            " nonconformities, breach_points, deduction_amount, rank from marts.supplier_ranking"
        ).fetchall()
        names = con.sql("select distinct supplier_name from marts.supplier_ranking").fetchall()
    want_months = [
        (r[0], r[1], r[2], r[3], Decimal(r[4]), Decimal(r[5]), Decimal(r[6]))
        for r in case["expected"]["contract_scores"]
    ]
    assert sorted(months) == sorted(want_months)
    want_ranked = [
        (*r[:5], Decimal(r[5]), r[6], r[7], Decimal(r[8]), r[9])
        for r in case["expected"]["supplier_ranking"]
    ]
    assert sorted(ranked) == sorted(want_ranked)
    assert all(name.startswith("供应商 ") for (name,) in names)


def test_money_and_scores_are_decimals(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_case(con, CASES[0])
        run_models(con, models_for(MARTS))
        types = dict(
            con.sql(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name in"
                " ('contract_scores', 'supplier_ranking')"
            ).fetchall()
        )
    assert types["deduction_amount"] == "DECIMAL(18,2)"
    assert types["score"] == "DECIMAL(18,2)"
    assert types["month"] == "DATE"


def test_the_largest_breach_points_do_not_stop_the_build(tmp_path: Path) -> None:
    """An office may charge up to the largest points a standard holds (2 147 483 647) at the
    largest amount a step may cost (¥9 999 999 999.99): the score goes far below zero, and the
    build still runs."""
    most = 2**31 - 1
    case = json.loads(json.dumps(CASES[3]))  # office_time_zones: N1 has one nonconformity
    case["contracts"][0]["standard"] = {str(most): "9999999999.99"}
    case["nonconformities"][0]["breach_points"] = most
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_case(con, case)
        run_models(con, models_for(MARTS))
        (row,) = con.sql(
            "select breach_points, deduction_amount, score from marts.contract_scores"
            " where contract_no = 'N1'"
        ).fetchall()
        (ranked,) = con.sql(
            "select score from marts.supplier_ranking where supplier_code = 'N'"
            " and period_type = 'year'"
        ).fetchall()
    assert row == (most, Decimal("9999999999.99"), Decimal(100 - most))
    assert ranked == (Decimal(100 - most),)
