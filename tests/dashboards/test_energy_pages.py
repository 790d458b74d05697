"""The energy pages: the analytics page, the phone reading form and the meter replacement form."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from conftest import shown
from streamlit.testing.v1 import AppTest

from operational.auth import Permission, system_principal
from operational.db import unit_of_work
from operational.services.energy import (
    PointStatus,
    add_meter,
    add_point,
    list_points,
    point_status,
)

CLI = system_principal("cli")


if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

ENERGY = "views/energy.py"
READING = "views/reading_form.py"
REPLACEMENT = "views/meter_replacement.py"


def opened(dashboard: MakeDashboard, username: str, page: str | None = None) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    assert not dash.app.exception
    if page is not None:
        dash.app.switch_page(page).run()
        assert not dash.app.exception, dash.app.exception
    return dash


def fresh_value(dash: Dashboard, code: str) -> str:
    """A plausible next reading of ``code``: the last one plus typical use since then."""
    with unit_of_work(dash.engine) as db:
        status = point_status(db, CLI, code)
    assert status.meter is not None and status.last_reading is not None
    assert status.last_read_at is not None and status.typical_daily_use is not None
    days = Decimal((datetime.now(UTC) - status.last_read_at) / timedelta(days=1))
    grown = status.last_reading + status.typical_daily_use * days / status.meter.multiplier
    return str(round(grown, 1))


def status_of(dash: Dashboard, code: str) -> PointStatus:
    with unit_of_work(dash.engine) as db:
        return point_status(db, CLI, code)


def errors(app: AppTest) -> list[str]:
    return [shown(e.value) for e in app.error]


# ---------------------------------------------------------------- menu and gating


@pytest.mark.parametrize(
    ("username", "energy", "reading", "replacement"),
    [
        ("admin", True, True, True),
        ("hq", True, False, False),
        ("audit", True, False, False),
        ("manager", True, True, True),
        ("engineer", True, True, True),
    ],
)
def test_each_role_gets_the_energy_pages_it_may_use(
    dashboard: MakeDashboard, username: str, energy: bool, reading: bool, replacement: bool
) -> None:
    dash = opened(dashboard, username)
    for page, allowed in ((ENERGY, energy), (READING, reading), (REPLACEMENT, replacement)):
        if allowed:
            dash.app.switch_page(page).run()
            assert not dash.app.exception
            assert dash.app.title
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                dash.app.switch_page(page)


def test_the_forms_check_the_permission_themselves(dashboard: MakeDashboard) -> None:
    from dashboards.navigation import HERE
    from operational.auth import Grant, Principal
    from operational.models import Role, ScopeLevel

    dashboard()  # the environment
    viewer = Principal(
        98, "viewer", "看板", "zh_CN", (Grant(Role.HQ_VIEWER, ScopeLevel.GROUP, "", None),)
    )
    for page in ("reading_form.py", "meter_replacement.py"):
        app = AppTest.from_file(str(HERE / "views" / page), default_timeout=30)
        app.session_state["principal"] = viewer
        app.run()
        assert errors(app) == ["您的角色无权执行此操作。"]
        assert not app.text_input


# ---------------------------------------------------------------- the energy page


def test_hq_sees_the_group_with_a_chart_the_exceptions_and_exports(
    dashboard: MakeDashboard,
) -> None:
    dash = opened(dashboard, "hq", ENERGY)
    app = dash.app
    assert app.title[0].value == "能耗管理"
    assert app.selectbox(key="energy_city").options == ["（全部）", "北京城市公司", "上海城市公司"]
    assert "**一应物业集团**" in [m.value for m in app.markdown]
    assert len(app.get("plotly_chart")) >= 3
    labels = [m.label for m in app.metric]
    assert labels[-1] == "待跟进异常"
    assert int(app.metric[-1].value) > 0
    exceptions = app.dataframe[-1].value
    assert "表码翻转" in set(exceptions["异常类型"])
    # numbers stay numbers (sorting, Excel); shown with thousands separators and the unit
    assert exceptions["用量（kWh）"].dtype.kind == "f"
    formats = json.loads(app.dataframe[-1].proto.columns)
    assert formats["用量（kWh）"]["type_config"]["format"] == "%,.1f kWh"
    assert {d.label for d in app.download_button} == {"导出 Excel"}
    assert len(app.download_button) == len(app.dataframe)


def test_hq_drills_down_to_an_office_a_building_and_a_point(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "hq", ENERGY)
    app = dash.app
    app.selectbox(key="energy_city").select("SH").run()
    app.selectbox(key="energy_office_SH").select("SH001").run()
    building = app.selectbox(key="energy_building_SH001_electricity")
    assert building.options[0] == "（全部）" and len(building.options) > 1
    building.select_index(1).run()
    assert not app.exception
    [point_box] = [s for s in app.selectbox if s.key.startswith("energy_point_SH001_")]
    assert all("SH001-E-" in option for option in point_box.options[1:])
    point_box.select_index(1).run()
    assert not app.exception
    assert app.get("plotly_chart")
    assert " › " in app.markdown[0].value
    for view in ("day", "year"):
        app.get("button_group")[1].set_value(view).run()
        assert not app.exception
        assert app.get("plotly_chart")


def test_water_is_in_cubic_metres(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "hq", ENERGY)
    dash.app.get("button_group")[0].set_value("water").run()
    assert not dash.app.exception
    assert dash.app.metric[0].value.endswith(" m³")


def test_an_office_manager_sees_only_their_office(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "manager", ENERGY)
    app = dash.app
    assert not [s for s in app.selectbox if s.key == "energy_city"]
    assert [o.split()[0] for o in app.selectbox(key="energy_office_scope").options] == ["SH001"]
    exceptions = app.dataframe[-1].value
    assert set(exceptions["管理处"]) <= {"SH001"}


def test_the_energy_page_speaks_english(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "hq")
    dash.app.radio(key="language_switch").set_value("en").run()
    dash.app.switch_page(ENERGY).run()
    assert not dash.app.exception
    assert dash.app.title[0].value == "Energy"
    assert dash.app.metric[-1].label == "Exceptions to follow up"
    assert "Register roll-over" in set(dash.app.dataframe[-1].value["Exception"])


# ---------------------------------------------------------------- the reading form


def test_the_reading_form_offers_only_the_users_points(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "manager", READING)
    options = dash.app.selectbox(key="reading_point").options
    assert options and all(" · SH001-" in option for option in options)
    with unit_of_work(dash.engine) as db:
        assert len(options) == len(list_points(db, CLI, Permission.ENTER_READINGS, {"SH001"}))

    admin = opened(dashboard, "admin", READING)
    offices = {o.split(" · ")[1][:5] for o in admin.app.selectbox(key="reading_point").options}
    assert offices == {"BJ001", "BJ002", "SH001", "SH002"}


def test_a_reading_is_recorded_and_the_use_is_reported(dashboard: MakeDashboard) -> None:
    code = "SH001-W-MAIN"
    dash = opened(dashboard, "manager", READING)
    app = dash.app
    app.selectbox(key="reading_point").set_value(code).run()
    assert "上次读数" in " ".join(m.value for m in app.markdown)
    value = fresh_value(dash, code)
    app.text_input(key="reading_value").input(value)
    app.button(key="reading_submit").click().run()
    assert not app.exception
    [saved] = [s.value for s in app.success]
    assert saved.startswith("已保存 ") and f"读数 {value.rstrip('0').rstrip('.')}" in saved
    assert saved.endswith(" m³。")
    status = status_of(dash, code)
    assert status.last_reading == Decimal(value)
    assert status.recent[0].entered_by == "manager"
    assert status.recent[0].source == "form"
    assert app.text_input(key="reading_value").value == ""


def test_a_bad_value_shows_the_translated_message_and_stores_nothing(
    dashboard: MakeDashboard,
) -> None:
    code = "SH001-W-MAIN"
    dash = opened(dashboard, "manager", READING)
    before = status_of(dash, code).recent
    app = dash.app
    app.selectbox(key="reading_point").set_value(code).run()
    app.text_input(key="reading_value").input("12,3x")
    app.button(key="reading_submit").click().run()
    assert errors(app) == ["「12,3x」不是数字。"]
    app.text_input(key="reading_value").input("1")
    app.button(key="reading_submit").click().run()
    [lower] = errors(app)
    assert "低于上次读数" in lower
    assert status_of(dash, code).recent == before


def test_a_roll_over_needs_an_explicit_confirmation_and_is_flagged(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    installed = datetime.now(UTC) - timedelta(days=3)
    with unit_of_work(dash.engine) as db:
        add_point(
            db, CLI, office_code="SH001", code="SH001-E-TEST", name="测试表", kind="electricity"
        )
        add_meter(
            db,
            CLI,
            point_code="SH001-E-TEST",
            installed_at=installed,
            initial_reading="9990",
            digits=4,
        )
    dash.app.run()
    dash.log_in("engineer")
    app = dash.app.switch_page(READING).run()
    app.selectbox(key="reading_point").set_value("SH001-E-TEST").run()
    app.text_input(key="reading_value").input("5")
    app.button(key="reading_submit").click().run()
    assert not app.exception
    [warning] = [w.value for w in app.warning]
    assert "翻转" in warning
    confirm = app.checkbox(key="reading_confirm")
    assert confirm.label == "确认：表码已越过零点翻转"
    assert status_of(dash, "SH001-E-TEST").recent == ()

    confirm.check()
    app.button(key="reading_submit").click().run()
    assert not app.exception
    [saved] = [s.value for s in app.success]
    assert "已标记为表码翻转" in saved and "15.0 kWh" in saved
    [stored] = status_of(dash, "SH001-E-TEST").recent
    assert (stored.reading, stored.flag) == (Decimal(5), "rollover")
    assert not app.get("checkbox")


def test_a_qr_link_survives_the_login_and_opens_the_form_for_its_point(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.query_params["point"] = "SH001-E-B1-LIFT"
    dash.app.run()
    assert dash.app.session_state["login_query"] == {"point": "SH001-E-B1-LIFT"}
    dash.log_in("manager")
    dash.app.query_params.clear()  # the address lost its query: the stash still knows
    app = dash.app.switch_page(READING).run()
    assert not app.exception
    assert app.selectbox(key="reading_point").value == "SH001-E-B1-LIFT"
    assert "SH001-E-B1-LIFT" in " ".join(m.value for m in app.markdown)


def test_a_link_to_someone_elses_point_is_refused_politely(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "manager")
    dash.app.query_params["point"] = "BJ001-E-MAIN"
    app = dash.app.switch_page(READING).run()
    assert [shown(w.value) for w in app.warning] == [
        "链接中的计量点 BJ001-E-MAIN 不在您的计量点范围内。"
    ]
    assert app.selectbox(key="reading_point").value is None


def test_a_recent_reading_can_be_withdrawn_and_corrected(dashboard: MakeDashboard) -> None:
    code = "SH001-W-MAIN"
    dash = opened(dashboard, "manager", READING)
    app = dash.app
    app.selectbox(key="reading_point").set_value(code).run()
    latest, previous = status_of(dash, code).recent[:2]
    app.radio(key="correction_action").set_value("withdraw")
    app.button(key="correction_submit").click().run()
    assert not app.exception
    assert "已撤销" in app.success[0].value
    after = status_of(dash, code)
    assert after.recent[0].reading_id == previous.reading_id
    assert after.last_reading == previous.reading

    corrected = str(previous.reading + Decimal("0.5"))
    app.radio(key="correction_action").set_value("correct")
    app.text_input(key="correction_value").input(corrected)
    app.button(key="correction_submit").click().run()
    assert not app.exception, errors(app)
    assert "已改为" in app.success[0].value
    assert status_of(dash, code).last_reading == Decimal(corrected)
    assert latest.reading_id not in {r.reading_id for r in status_of(dash, code).recent}


# ---------------------------------------------------------------- the replacement form


def test_a_meter_is_replaced_in_one_step(dashboard: MakeDashboard) -> None:
    code = "SH001-W-MAIN"
    dash = opened(dashboard, "manager", REPLACEMENT)
    app = dash.app
    app.selectbox(key="replace_point").set_value(code).run()
    old = status_of(dash, code)
    assert old.meter is not None
    assert app.text_input(key="replace_multiplier").value == "1"
    app.text_input(key="replace_final").input(fresh_value(dash, code))
    app.text_input(key="replace_serial").input("NEW-0001")
    app.text_input(key="replace_initial").input("0")
    app.button(key="replace_submit").click().run()
    assert not app.exception, errors(app)
    assert "NEW-0001" in app.success[0].value
    new = status_of(dash, code)
    assert new.meter is not None and new.meter.serial == "NEW-0001"
    assert new.meter.meter_id != old.meter.meter_id
    assert new.meter.initial_reading == 0


def test_a_refused_replacement_is_explained(dashboard: MakeDashboard) -> None:
    code = "SH001-W-MAIN"
    dash = opened(dashboard, "manager", REPLACEMENT)
    app = dash.app
    app.selectbox(key="replace_point").set_value(code).run()
    app.text_input(key="replace_final").input("1")
    app.text_input(key="replace_digits").input("x")
    app.button(key="replace_submit").click().run()
    [message] = errors(app)
    assert message == "表盘位数「x」必须是 1 至 12 的整数。"
    assert status_of(dash, code).meter.serial != "NEW-0001"  # type: ignore[union-attr]


# ---------------------------------------------------------------- opened from a link


def opened_at(dashboard: MakeDashboard, username: str, **query: str) -> Dashboard:
    dash = opened(dashboard, username)
    dash.app.switch_page(ENERGY)
    for key, value in query.items():
        dash.app.query_params[key] = value
    dash.app.run()
    assert not dash.app.exception, dash.app.exception
    return dash


def test_a_link_with_an_office_opens_the_page_on_that_office(dashboard: MakeDashboard) -> None:
    dash = opened_at(dashboard, "hq", office="SH002")
    app = dash.app
    assert app.selectbox(key="energy_city").value == "SH"
    assert app.selectbox(key="energy_office_SH").value == "SH002"
    assert "SH002" in app.markdown[0].value
    assert not app.warning
    # the user may then choose another office: the link does not pull them back
    app.selectbox(key="energy_office_SH").select("SH001").run()
    assert app.selectbox(key="energy_office_SH").value == "SH001"


def test_a_link_with_a_city_opens_the_page_on_that_city(dashboard: MakeDashboard) -> None:
    dash = opened_at(dashboard, "hq", city="BJ")
    assert dash.app.selectbox(key="energy_city").value == "BJ"
    assert "北京城市公司" in dash.app.markdown[0].value


def test_a_link_to_another_office_says_so_and_shows_only_ones_own(
    dashboard: MakeDashboard,
) -> None:
    dash = opened_at(dashboard, "manager", office="BJ001")
    app = dash.app
    assert [w.value for w in app.warning] == [
        "链接中的管理处 BJ001 不在您的权限范围内，以下为您有权查看的数据。"
    ]
    assert [o.split()[0] for o in app.selectbox(key="energy_office_scope").options] == ["SH001"]
    assert "BJ001" not in app.markdown[0].value
