"""What the demo city is made of: a made-up county of four townships, three contractors and the
contracts the civil-affairs bureau signed with them. Plain data; builder.py records it.

The area code 330127 stands in for the county in ID numbers and credit codes: it is valid for
every birth year (validators such as python-stdnum check the code existed when a person was
born). The names of people and organisations are invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

CITY = "青溪县 Qingxi County"
AREA_CODE = "330127"

PRIOR_YEAR_SUBSIDIES = Decimal("48000000.00")  # at the 3% cap, a ceiling of 1,440,000.00
FUND_AMOUNT = Decimal("1200000.00")
FUND_NAME = "{year}年度政府购买社会救助服务资金 Service purchase fund {year}"

TOWNSHIPS: dict[str, list[str]] = {
    "城关镇": ["东风社区", "解放社区", "红旗村"],
    "东溪街道": ["溪滨社区", "桃源社区", "柳岸村"],
    "西山乡": ["西山村", "石门村", "竹林村"],
    "南湖镇": ["南湖村", "湖心村", "渔港村"],
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "秀英桂兰玉梅凤珍建国志强丽华明德海燕春生金花淑芬文秀长林宝山永福小红国平翠英荣华德顺"

# Counts per category out of 60, shuffled by the seed.
CATEGORY_COUNTS = {"extreme_poverty": 9, "dibao": 24, "marginal": 12, "rigid_expense": 9, "relapse_monitored": 6}
SELF_CARE_WEIGHTS = {"self_reliant": 60, "partly_lost": 28, "fully_lost": 12}
BENEFICIARIES = sum(CATEGORY_COUNTS.values())

PANEL = [
    {"name": "孙会计 (中级会计师)", "accountant_title": "intermediate"},
    {"name": "周社工 (社会工作师)"},
    {"name": "吴科长 (民政局)"},
]


@dataclass(frozen=True)
class ContractorPlan:
    key: str  # a short handle for tests and the CLI's output
    name: str
    contractor_type: str
    registrar: str  # credit code: registration department and organisation kind
    kind: str
    org_code: str  # 8 digits; the check digits are computed
    coordinator: str  # who holds the contractor's token
    workers: list[tuple[str, str]]
    townships: list[str]  # where it serves


@dataclass(frozen=True)
class ContractPlan:
    contractor: str  # ContractorPlan.key
    contract_no: str
    title: str
    procurement_method: str
    lines: list[dict[str, str | int]]
    volume_service: str
    volume_quantity: int
    # milestone id -> amount; the volume tranche pays no more than the visits it needs are worth,
    # so paying it raises no `paid_above_confirmed` flag once most visits are confirmed.
    tranches: dict[str, str]
    # Services a referral asks for, and days between visits for each.
    services: dict[str, int] = field(default_factory=dict)
    extra_services: dict[str, int] = field(default_factory=dict)  # for those who lost self-care


CONTRACTORS = [
    ContractorPlan(
        key="sunshine",
        name="青溪县阳光社会工作服务中心",
        contractor_type="social_organisation",
        registrar="5",
        kind="2",
        org_code="50871203",
        coordinator="coordinator-chen",
        workers=[("陈晓燕", "中级社会工作师"), ("林志强", "助理社会工作师"), ("黄丽娟", "助理社会工作师"), ("郑海波", "心理咨询师"), ("何春梅", "护理员")],
        townships=list(TOWNSHIPS),
    ),
    ContractorPlan(
        key="ankang",
        name="青溪县安康居家养老服务有限公司",
        contractor_type="enterprise",
        registrar="9",
        kind="1",
        org_code="73562914",
        coordinator="manager-liu",
        workers=[("刘桂芳", "养老护理员"), ("赵建平", "养老护理员"), ("孙玉兰", "养老护理员"), ("马文军", "助浴师"), ("朱秀琴", "营养配餐员"), ("胡国庆", "养老护理员")],
        townships=["城关镇", "东溪街道"],
    ),
    ContractorPlan(
        key="linli",
        name="青溪县邻里守望社区服务社",
        contractor_type="social_organisation",
        registrar="5",
        kind="1",
        org_code="60318457",
        coordinator="director-xu",
        workers=[("徐永福", "家政服务员"), ("许翠英", "家政服务员"), ("韩德顺", "维修工")],
        townships=["西山乡", "南湖镇"],
    ),
]

CONTRACTS = [
    ContractPlan(
        contractor="sunshine",
        contract_no="QX-MZ-2026-001",
        title="困难群众走访探视与心理疏导服务",
        procurement_method="open_tender",
        lines=[
            {"service_code": "visiting", "quantity": 3000, "unit_price": "50.00"},
            {"service_code": "counselling", "quantity": 600, "unit_price": "150.00"},
        ],  # 240,000.00
        volume_service="visiting",
        volume_quantity=200,
        tranches={"m-volume": "10000.00", "m-mid-term": "50000.00", "m-final": "80000.00", "m-acceptance": "100000.00"},
        services={"visiting": 7},
        extra_services={"counselling": 14},
    ),
    ContractPlan(
        contractor="ankang",
        contract_no="QX-MZ-2026-002",
        title="居家老人助餐助浴服务",
        procurement_method="competitive_consultation",
        lines=[
            {"service_code": "meals", "quantity": 12000, "unit_price": "15.00"},
            {"service_code": "bathing", "quantity": 800, "unit_price": "80.00"},
        ],  # 244,000.00
        volume_service="meals",
        volume_quantity=400,
        tranches={"m-volume": "6000.00", "m-mid-term": "58000.00", "m-final": "80000.00", "m-acceptance": "100000.00"},
        services={"meals": 2},
        extra_services={"bathing": 14},
    ),
    ContractPlan(
        contractor="linli",
        contract_no="QX-MZ-2026-003",
        title="困难家庭助洁维修代办服务",
        procurement_method="request_for_quotation",
        lines=[
            {"service_code": "cleaning", "quantity": 2000, "unit_price": "60.00"},
            {"service_code": "errands", "quantity": 1200, "unit_price": "30.00"},
            {"service_code": "repairs", "quantity": 200, "unit_price": "120.00"},
        ],  # 180,000.00
        volume_service="cleaning",
        volume_quantity=400,
        tranches={"m-volume": "24000.00", "m-mid-term": "36000.00", "m-final": "50000.00", "m-acceptance": "70000.00"},
        services={"cleaning": 7},
        extra_services={"errands": 14, "repairs": 45},
    ),
]

SIGNED_SHARE = 0.85  # visits the beneficiary signed for, handed in by the contractor
FOLLOW_UP_SHARE = 0.3  # of the others, confirmed by the purchaser's follow-up call
DISPUTE = "服务对象经12349热线反映当天无人上门 The beneficiary told hotline 12349 nobody came that day"
VOID = "重复录入 Entered twice by mistake"

DECLINE_REASONS = ["服务对象住址超出本机构服务范围 Outside our service area", "本月护理人员已满, 建议转介 No carer free this month"]
