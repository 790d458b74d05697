"""The energy page as headquarters and an office use it day to day: a month in progress is
marked in every comparison, charts span the data, figures carry separators and units, and the
exceptions can be followed up (note, done) until none is left to follow up."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from operational.db import unit_of_work
from operational.models import AuditEntry, ExceptionFollowUp
from pipelines.run import run_pipeline

if TYPE_CHECKING:
    from conftest import Dashboard, Site

    MakeDashboard = Callable[..., Dashboard]

ENERGY = "views/energy.py"


def opened(dashboard: MakeDashboard, username: str, **kwargs: object) -> Dashboard:
    dash = dashboard(**kwargs)
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(ENERGY).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def frame_of(dash: Dashboard, column: str):  # type: ignore[no-untyped-def]
    """The first table shown that has ``column``."""
    return next(d for d in dash.app.dataframe if column in d.value.columns)


def chart(dash: Dashboard, title: str) -> dict:  # type: ignore[type-arg]
    """The figure whose title starts with ``title``."""
    specs = [json.loads(c.proto.spec) for c in dash.app.get("plotly_chart")]
    [spec] = [s for s in specs if s["layout"]["title"]["text"].startswith(title)]
    return spec


def test_the_month_in_progress_is_marked_in_every_comparison(dashboard: MakeDashboard) -> None:
    """As of 20 November 2026 November has not ended: the year-on-year table says so and shows
    no change for it, the monthly table marks it, the year-to-date figure says so."""
    dash = opened(dashboard, "hq")
    app = dash.app
    yoy = frame_of(dash, "同比变化 %")
    rows = yoy.value.set_index("月")
    assert rows.loc[11, "数据"] == "进行中"
    assert rows["数据"].drop(11).isna().all()
    assert rows.loc[11, "同比变化 %"] != rows.loc[11, "同比变化 %"]  # NaN: no change shown
    assert "该月结束后才显示同比变化" in " ".join(c.value for c in app.caption)
    assert "2026-11 尚未结束" in " ".join(c.value for c in app.caption)
    monthly = frame_of(dash, "月份").value
    assert monthly.set_index("月份").loc["2026-11", "数据"] == "本月进行中（未结束）"
    app.get("button_group")[1].set_value("year").run()
    assert frame_of(dash, "年份").value.set_index("年份").loc["2026", "数据"] == (
        "本年进行中（未结束）"
    )


def test_charts_span_the_data_and_tables_carry_separators_and_units(
    dashboard: MakeDashboard,
) -> None:
    dash = opened(dashboard, "hq")
    app = dash.app
    spec = chart(dash, "每月用量")
    low, high = (datetime.fromisoformat(v) for v in spec["layout"]["xaxis"]["range"])
    # the demo's readings cover a week of November 2026: the axis spans that month only
    assert low > datetime(2026, 10, 1) and high < datetime(2026, 12, 31)
    in_progress = [t for t in spec["data"] if t.get("name") == "本月进行中（未结束）"]
    assert in_progress and in_progress[0]["marker"]["pattern"]["shape"] == "/"
    app.get("button_group")[1].set_value("year").run()
    xaxis = chart(dash, "每年用量")["layout"]["xaxis"]
    assert [v[:4] for v in xaxis["tickvals"]] == ["2026"]  # no empty year either side
    table = frame_of(dash, "用量（kWh）")
    assert table.value["用量（kWh）"].dtype.kind == "f"
    formats = json.loads(table.proto.columns)
    assert formats["用量（kWh）"]["type_config"]["format"] == "%,.1f kWh"
    assert app.metric[0].value.endswith(" kWh") and "," in app.metric[0].value


def test_an_office_follows_up_an_exception_until_it_is_done(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "admin")
    app = dash.app
    before = int(app.metric[-1].value.replace(",", ""))
    assert before > 0
    # the first exception is chosen; write a note (hostile text: it must stay text) and done
    hostile = "**已核实** [请重新登录](http://evil.example) <b>x</b>"
    [note] = [a for a in app.text_area if a.key and a.key.startswith("energy_follow_note_")]
    note.input(hostile)
    [done] = [c for c in app.checkbox if c.key and c.key.startswith("energy_follow_done_")]
    done.check()
    app.button(key="FormSubmitter:energy_follow_form-保存跟进").click().run()
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == ["跟进已保存。该异常已处理，不再计入待跟进。"]
    assert int(app.metric[-1].value.replace(",", "")) == before - 1
    table = frame_of(dash, "跟进说明").value
    assert hostile in set(table["跟进说明"])  # the note as typed, shown as text
    assert bool(table.loc[table["跟进说明"] == hostile, "已处理"].iloc[0])
    assert not [m for m in app.markdown if "evil.example" in m.value]
    with unit_of_work(dash.engine) as db:
        [saved] = db.scalars(select(ExceptionFollowUp)).all()
        assert (saved.note, saved.done, saved.followed_up_by) == (hostile, True, "admin")
        audit = db.scalars(select(AuditEntry).where(AuditEntry.entity == "energy_exception")).all()
        assert [(a.actor, a.action) for a in audit] == [("admin", "follow_up")]
    # the exception stays listed, marked done
    assert any("✓" in o for o in app.selectbox(key="energy_follow_pick").options)


def test_a_note_is_required(dashboard: MakeDashboard) -> None:
    dash = opened(dashboard, "admin")
    app = dash.app
    app.button(key="FormSubmitter:energy_follow_form-保存跟进").click().run()
    assert [e.value for e in app.error] == ["请填写跟进说明：发现了什么，做了什么。"]
    with unit_of_work(dash.engine) as db:
        assert db.scalars(select(ExceptionFollowUp)).all() == []


def test_headquarters_reads_the_exceptions_but_does_not_record_follow_ups(
    dashboard: MakeDashboard,
) -> None:
    dash = opened(dashboard, "hq")
    app = dash.app
    assert not [s for s in app.selectbox if s.key == "energy_follow_pick"]
    assert "记录跟进需要在该计量点所属管理处有抄表权限" in " ".join(c.value for c in app.caption)


@pytest.mark.slow  # a pipeline build
def test_a_held_point_is_shown_to_its_office_and_the_rest_is_published(
    dashboard: MakeDashboard, demo_site: Site, tmp_path: Path
) -> None:
    """A legacy reading stored as infinity holds its point: the build publishes, the office sees
    the point held with the reason, and can follow it up."""
    from tests.dashboards.conftest import AS_OF

    database = tmp_path / "propcloud.db"
    shutil.copyfile(demo_site.database, database)
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as con:
        point, meter = con.exec_driver_sql(
            "select p.id, m.id from energy_point p join energy_meter m on m.point_id = p.id"
            " and m.removed_at is null where p.code = 'SH001-E-MAIN'"
        ).one()
        con.exec_driver_sql(
            "insert into energy_reading (point_id, meter_id, read_at, reading, source, void,"
            " entered_by, entered_at) values (?, ?, '2026-11-19 03:17:00', 1e400, 'import', 0,"
            " 'legacy', '2026-11-19 03:17:00')",
            (point, meter),
        )
    engine.dispose()
    warehouse = tmp_path / "warehouse"
    run_pipeline(f"sqlite:///{database}", warehouse, AS_OF)
    dash = opened(dashboard, "manager", warehouse_dir=warehouse)
    table = frame_of(dash, "异常类型").value
    held = table[table["异常类型"] == "计量点挂起：存储的数据不可用"]
    assert list(held["计量点"].str.endswith("(SH001-E-MAIN)")) == [True]
    assert list(held["原因"]) == ["存储的读数不是有效数字。"]
    assert held["起"].iloc[0].date() == date(2026, 11, 19)
    assert "不计入任何合计" in " ".join(c.value for c in dash.app.caption)
    assert any("SH001-E-MAIN" in o for o in dash.app.selectbox(key="energy_follow_pick").options)


@pytest.mark.parametrize("username", ["hq", "manager"])
def test_the_energy_page_speaks_english_with_units(dashboard: MakeDashboard, username: str) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.radio(key="language_switch").set_value("en").run()
    dash.app.switch_page(ENERGY).run()
    assert not dash.app.exception
    assert dash.app.metric[0].value.endswith(" kWh")
    yoy = frame_of(dash, "Change %").value
    assert "In progress" in set(yoy["Data"].dropna())
