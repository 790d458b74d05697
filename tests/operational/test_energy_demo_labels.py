"""The demo's meter trees and the printable QR label sheet."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import Permission, system_principal
from operational.demo import STEPS, DemoOptions
from operational.demo.energy import energy_step
from operational.models import Building, Meter, MeterPoint, Office, Reading
from operational.services.energy import list_points, meter_labels_pdf

CLI = system_principal("cli")

OPTIONS = DemoOptions(offices=2, days=60, seed=11, now=datetime(2026, 8, 15, 4, tzinfo=UTC))


def load(session: Session) -> None:
    for step in STEPS:
        step(session, OPTIONS, random.Random(OPTIONS.seed))
        session.flush()


def snapshot(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(MeterPoint.code, Reading.read_at, Reading.reading, Reading.flag)
        .join(MeterPoint, Reading.point_id == MeterPoint.id)
        .order_by(MeterPoint.code, Reading.read_at)
    )
    return [tuple(r) for r in rows]


@pytest.mark.slow
def test_demo_energy_tells_the_story_and_is_deterministic(session: Session) -> None:
    attempt = session.begin_nested()
    load(session)
    earlier = snapshot(session)
    attempt.rollback()
    load(session)
    first = snapshot(session)
    assert first == earlier
    offices = session.scalars(select(Office.code).order_by(Office.code)).all()
    assert len(offices) >= 2
    office = offices[0]
    points = {p.code: p for p in list_points(session, CLI, Permission.ENTER_READINGS, [office])}
    assert points[f"{office}-E-B1"].parent_code == f"{office}-E-MAIN"
    assert points[f"{office}-E-B1-LIFT"].parent_code == f"{office}-E-B1"
    assert points[f"{office}-W-B1"].parent_code == f"{office}-W-MAIN"
    assert 14 <= len(points) <= 23
    flags = {(code.split("-", 1)[1], flag) for code, _, _, flag in first if flag}
    assert ("E-B1-LIGHT", "rollover") in flags
    assert ("W-B2", "high") in flags
    assert session.scalar(select(func.count()).select_from(Meter)) > len(points) * 2 - 1
    areas = session.scalars(select(Building.area_m2)).all()
    assert areas and all(a is not None and a > 0 for a in areas)
    w_b1 = [r for r in first if r[0] == f"{office}-W-B1"]
    assert len(w_b1) == 60 - 9  # a stretch of missing readings
    # Again: nothing is added twice.
    energy_step(session, OPTIONS, random.Random(0))
    assert snapshot(session) == first


@pytest.mark.slow  # the demo's energy data and a PDF rendered
def test_label_sheet_pdf(session: Session, tmp_path: Path) -> None:
    load(session)
    office = session.scalars(select(Office.code).order_by(Office.code)).first()
    assert office is not None
    n = len(list_points(session, CLI, Permission.ENTER_READINGS, [office]))
    pdf = meter_labels_pdf(session, CLI, office, "https://pc.example/", "zh_CN")
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages == -(-n // 24)
    urls = re.findall(rb"/URI \((.*?)\)", pdf)
    assert len(urls) == n
    assert urls[0] == f"https://pc.example/reading?point={office}-E-B1".encode()
    path = tmp_path / "labels.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                str(path),
                str(tmp_path / "page"),
            ],
            check=True,
        )
        assert list(tmp_path.glob("page*.png"))
