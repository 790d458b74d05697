"""No page shows a raw "None": a table's missing values are shown as "—"."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from dashboards import navigation

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]


@pytest.mark.parametrize(
    "username",
    # The manager's walk through every page of the menu is in `make check`; the admin's too, in
    # `make test` (about seven seconds under load each).
    [pytest.param("admin", marks=pytest.mark.slow), "manager"],
)
def test_every_table_shows_missing_values_as_a_dash(
    dashboard: MakeDashboard, username: str
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    seen = 0
    for spec in navigation.PAGES:
        try:
            dash.app.switch_page(spec.file).run()
        except ValueError:  # not in this user's menu
            continue
        assert not dash.app.exception, (spec.file, dash.app.exception)
        for table in dash.app.dataframe:
            assert table.proto.placeholder == "—", spec.file
            seen += 1
        assert "None" not in " ".join(str(m.value) for m in (*dash.app.markdown, *dash.app.caption))
    assert seen >= 10
