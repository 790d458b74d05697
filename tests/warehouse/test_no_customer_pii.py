"""No phone or ID number reaches the warehouse (docs/property.md): whatever operational table the
extract copies, a column holding customers' personal information is left out of it."""

from __future__ import annotations

from operational.models import Base
from warehouse.extract import SOURCES

PII_COLUMNS = {"phone", "id_number"}


def test_the_extract_copies_no_phone_or_id_number() -> None:
    copied = {
        (source.table, column.name)
        for source in SOURCES
        for column in Base.metadata.tables[source.table].columns
        if column.name not in source.left_out
    }
    assert not {(t, c) for t, c in copied if c in PII_COLUMNS}


def test_the_rule_knows_where_personal_information_is() -> None:
    """The columns the test above looks for are the customers' (so renaming them fails here)."""
    customer = Base.metadata.tables["prop_customer"].columns
    assert set(customer.keys()) >= PII_COLUMNS
