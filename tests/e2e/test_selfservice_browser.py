"""In real Chromium, the pages an office and internal audit use every day besides orders: the
manager uploads a readings file in the imports page (preview with its encoding, a refused file's
row report, then the good file), opens the objects and meters forms; audit searches orders and
reads the audit log, which shows the manager's import."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from operational.i18n import t
from tests.e2e.test_orders_browser import choose, log_in, open_menu_page, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def upload(page: Page, path: Path) -> None:
    page.get_by_test_id("stMain").locator("input[type=file]").set_input_files(str(path))
    wait_for_run(page)


def test_a_manager_uploads_readings_and_audit_finds_it(
    page: Page, tmp_path: Path, screenshots: Path
) -> None:
    log_in(page, "manager")
    open_menu_page(page, "数据导入")
    main = page.get_by_test_id("stMain")
    choose(main, "导入内容", "抄表读数")
    # the readings' own uploader is drawn (another import's would take the file)
    expect(main.get_by_text(t("selfservice.imports.about.readings", "zh_CN"))).to_be_visible()
    wait_for_run(page)

    bad = tmp_path / "readings-bad.csv"
    bad.write_bytes(
        "point_code,read_at,reading\nSH001-W-MAIN,2026-11-20 09:00,不是数字\n".encode("gb18030")
    )
    upload(page, bad)
    expect(main.get_by_text("文件按 GBK/GB18030 编码读取。")).to_be_visible()
    expect(main.get_by_text("以上是文件的全部 1 行。")).to_be_visible()
    main.get_by_role("button", name="导入该文件").click()
    expect(
        main.get_by_text("未导入任何数据：发现 1 个问题。请修正后重新导入该文件。")
    ).to_be_visible()

    good = tmp_path / "readings-good.csv"
    good.write_text("point_code,read_at,reading\nSH001-W-MAIN,2026-11-20 20:00,999999\n")
    upload(page, good)
    expect(main.get_by_text("文件按 UTF-8 编码读取。")).to_be_visible()
    main.get_by_role("button", name="导入该文件").click()
    expect(main.get_by_test_id("stAlertContentSuccess").first).to_be_visible()
    page.screenshot(path=str(screenshots / "imports.png"), full_page=True)

    for title in ("对象管理", "计量点与仪表"):
        open_menu_page(page, title)
        expect(main.get_by_test_id("stException")).to_have_count(0)
        expect(main.get_by_role("tab").first).to_be_visible()

    page.context.clear_cookies()
    log_in(page, "audit")
    open_menu_page(page, "工单查询")
    expect(main.get_by_test_id("stException")).to_have_count(0)
    expect(main.get_by_test_id("stDataFrame").first).to_be_visible()
    open_menu_page(page, "审计日志")
    expect(main.get_by_test_id("stException")).to_have_count(0)
    expect(main.get_by_test_id("stDataFrame").first).to_be_visible()
    page.screenshot(path=str(screenshots / "audit_log.png"), full_page=True)
