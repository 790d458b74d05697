"""Demo step: the group's fault library (故障库) for the demo's object types.

Entries are the ones a property company's engineers actually write down: what is seen, the usual
cause, and what to do. An entry already in the library (same type and symptom) is left as it is,
so the step can run again; a type the demo tree does not have is skipped.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.models import Fault, ObjectType
from operational.services.faults import add_fault

DEMO = system_principal("demo")
"""The demo loader acts as the system principal, recorded as ``demo``."""

if TYPE_CHECKING:
    from operational.demo import DemoOptions

# (type code, symptom, cause, remedy)
FAULTS: list[tuple[str, str, str, str]] = [
    (
        "engineering",
        "设备突然断电停机",
        "供电回路跳闸、缺相或控制电源保险熔断。",
        "先确认现场安全并挂牌，检查配电柜断路器与相序保护，排除短路后复位送电；记录跳闸时间。",
    ),
    (
        "elevator",
        "电梯困人",
        "停电、门锁回路断开、安全回路动作或控制系统故障导致轿厢停在层间。",
        "立即通过对讲安抚乘客并告知等待，通知维保单位；持证人员断开主电源后按盘车规程"
        "平层放人，严禁强行扒门；事后查明原因并填写困人记录。",
    ),
    (
        "elevator",
        "平层不准",
        "平层感应器（隔磁板）位置偏移、曳引钢丝绳打滑或制动器间隙过大。",
        "调整平层感应器与隔磁板位置，检查曳引轮槽与钢丝绳磨损，按规范调整制动器间隙，"
        "调整后逐层试运行确认误差在 ±10 mm 以内。",
    ),
    (
        "elevator",
        "运行中轿厢异响或抖动",
        "导靴磨损、导轨润滑不足或接头不平，曳引机轴承磨损。",
        "检查并更换导靴靴衬，清洁润滑导轨并校正接头，检测曳引机轴承温度与噪声，必要时更换轴承。",
    ),
    (
        "elevator",
        "厅门或轿门关不上、反复开关",
        "门地坎有异物、光幕或安全触板被遮挡或损坏、门机皮带松动。",
        "清理地坎槽异物，擦拭并测试光幕，调整门机皮带张紧度，检查门锁触点是否接触良好。",
    ),
    (
        "elevator",
        "紧急呼叫对讲无声",
        "对讲主机电源或备用电池失效、线路断开。",
        "检查值班室主机与轿厢分机供电，更换备用电池，逐段测量线路；修复前安排专人值守。",
    ),
    (
        "water_pump",
        "水泵异响",
        "轴承缺油或磨损、叶轮有异物或汽蚀、联轴器对中不良、地脚螺栓松动。",
        "停泵后盘车检查，清理叶轮异物，补充或更换轴承润滑脂，重新校正联轴器对中，紧固地脚螺栓；"
        "汽蚀时检查进水阀门与吸水池水位。",
    ),
    (
        "water_pump",
        "出水压力不足",
        "进口阀门未全开或过滤器堵塞、叶轮磨损、管路泄漏或变频器设定压力偏低。",
        "全开进口阀并清洗过滤器，检查管路有无渗漏，核对变频器设定压力，叶轮磨损严重时更换。",
    ),
    (
        "water_pump",
        "机械密封漏水",
        "机械密封动静环磨损、弹簧失效或干转损坏。",
        "停泵关闭前后阀门，更换机械密封组件；检查缺水保护是否可靠，防止再次干转。",
    ),
    (
        "water_pump",
        "电机过热跳闸",
        "负载过大、电压不平衡、散热风扇损坏或轴承卡滞。",
        "测量三相电压与电流，清理电机散热片并检查风扇，盘车检查轴承；确认无误后复位热继电器。",
    ),
    (
        "fire_equipment",
        "灭火器压力指针在红区",
        "灭火器泄漏或超过检验有效期。",
        "立即更换为合格灭火器，送有资质单位维修充装，并核对同批次灭火器。",
    ),
    (
        "fire_equipment",
        "消火栓无水或水压不足",
        "消防水池水位低、稳压泵故障、管网阀门被关闭或管道泄漏。",
        "检查消防水池水位与补水阀，测试稳压泵启停，巡查管网阀门开启状态并挂锁，修复泄漏点。",
    ),
    (
        "lawn_zone",
        "草坪成片枯黄",
        "缺水或积水、施肥过量烧苗、病害（褐斑病）或虫害（地下害虫）。",
        "检查灌溉与排水，取样判断病虫害后对症施药，停用过量肥料并浇透水，严重处补植草皮。",
    ),
    (
        "lawn_zone",
        "灌溉喷头不出水",
        "喷头堵塞、电磁阀故障或管路破损。",
        "拆洗喷头滤网，测试电磁阀线圈与控制器，开挖查找管路破损处并修复。",
    ),
    (
        "guard_post",
        "岗亭对讲机无法通话",
        "电池电量不足、频道设置错误或天线损坏。",
        "更换充满电的电池，核对频道，检查天线；备用对讲机交接班时试呼确认。",
    ),
    (
        "lobby",
        "大堂地面有水渍易滑倒",
        "雨天带入雨水、空调冷凝水滴漏或清洁后未及时擦干。",
        "立即摆放“小心地滑”警示牌，铺设防滑地垫，用干拖把擦干；冷凝水滴漏报工程维修。",
    ),
]


def faults_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    """Add the library entries that are missing (by type and symptom)."""
    types = {t.code: t.id for t in session.scalars(select(ObjectType))}
    have = {(t, s) for t, s in session.execute(select(Fault.type_id, Fault.symptom))}
    for type_code, symptom, cause, remedy in FAULTS:
        type_id = types.get(type_code)
        if type_id is None or (type_id, symptom) in have:
            continue
        add_fault(session, DEMO, type_code=type_code, symptom=symptom, cause=cause, remedy=remedy)
