"""Codes that users read: service items, categories and other enumerations.

Every code carries a zh-CN and an English label. Codes are stable strings stored in events;
labels may be corrected without touching history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Label:
    zh: str
    en: str


class Labelled(str, Enum):
    """A string enum whose members carry zh-CN and English labels."""

    # The labels as *labels: mypy then reads a lookup by value, Role("finance"), as the call it is.
    def __new__(cls, value: str, *labels: str) -> Labelled:
        zh, en = labels  # each member names both, or the class does not load
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = Label(zh, en)  # type: ignore[attr-defined]
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def labels(cls) -> dict[str, dict[str, str]]:
        return {m.value: {"zh": m.label.zh, "en": m.label.en} for m in cls}  # type: ignore[attr-defined]


class ServiceKind(Labelled):
    ADMINISTRATIVE = ("administrative", "事务性服务", "Administrative service")
    DIRECT = ("direct", "服务性服务", "Direct service")


class ServiceClass(Labelled):
    ADMINISTRATIVE = ("administrative", "事务性工作", "Administrative work")
    CARE = ("care", "照护服务类", "Care")
    DAILY_LIVING = ("daily_living", "生活服务类", "Daily living")
    CARING = ("caring", "关爱服务类", "Caring")


@dataclass(frozen=True)
class ServiceItem:
    code: str
    number: int | None
    service_class: ServiceClass
    zh: str
    en: str

    @property
    def kind(self) -> ServiceKind:
        if self.service_class is ServiceClass.ADMINISTRATIVE:
            return ServiceKind.ADMINISTRATIVE
        return ServiceKind.DIRECT


_C, _D, _K, _A = ServiceClass.CARE, ServiceClass.DAILY_LIVING, ServiceClass.CARING, ServiceClass.ADMINISTRATIVE

# The guiding catalogue of direct services (seed 001, annex 1) and the administrative work of
# seeds 000 and 002. Item 29 is numbered 39 in the source, a typo.
SERVICE_ITEMS: tuple[ServiceItem, ...] = (
    ServiceItem("visiting", 1, _C, "走访探视", "Visiting"),
    ServiceItem("health_record", 2, _C, "健康档案", "Health record"),
    ServiceItem("checkup", 3, _C, "定期体检", "Regular check-up"),
    ServiceItem("mental_rehab", 4, _C, "精神康复", "Mental-health rehabilitation"),
    ServiceItem("hospital_escort", 5, _C, "就医陪护", "Hospital escort"),
    ServiceItem("respite", 6, _C, "喘息服务", "Respite care (under 24 hours)"),
    ServiceItem("hospice", 7, _C, "临终关怀", "Hospice care"),
    ServiceItem("rare_disease_followup", 8, _C, "罕见病对象跟踪", "Rare-disease follow-up"),
    ServiceItem("rehab_training", 9, _C, "康复训练", "Rehabilitation training"),
    ServiceItem("foot_care", 10, _C, "修脚服务", "Foot care"),
    ServiceItem("temporary_custody", 11, _C, "临时托管", "Temporary custody"),
    ServiceItem("emergency_call", 12, _C, "安全呼叫", "Emergency call"),
    ServiceItem("meals", 13, _D, "助餐服务", "Meals"),
    ServiceItem("bathing", 14, _D, "助浴服务", "Bathing"),
    ServiceItem("cleaning", 15, _D, "助洁服务", "Cleaning"),
    ServiceItem("mobility", 16, _D, "助行服务", "Mobility assistance"),
    ServiceItem("health_services", 17, _D, "健康服务", "Health services"),
    ServiceItem("companionship", 18, _D, "陪伴服务", "Companionship"),
    ServiceItem("haircut", 19, _D, "理发服务", "Haircut"),
    ServiceItem("repairs", 20, _D, "维修服务", "Repairs"),
    ServiceItem("moving", 21, _D, "搬家服务", "Moving house"),
    ServiceItem("errands", 22, _D, "代办服务", "Errands"),
    ServiceItem("counselling", 23, _K, "心理疏导", "Counselling"),
    ServiceItem("social_integration", 24, _K, "社会融入", "Social integration"),
    ServiceItem("capability_building", 25, _K, "能力提升", "Capability building"),
    ServiceItem("ecommerce_sales", 26, _K, "电商代销", "E-commerce sales help"),
    ServiceItem("carer_training", 27, _K, "家庭照顾者培训", "Family-carer training"),
    ServiceItem("legal_aid", 28, _K, "法律服务", "Legal aid"),
    ServiceItem("policy_outreach", 29, _K, "政策宣传", "Policy outreach"),
    ServiceItem("family_guidance", 30, _K, "家庭辅导", "Family guidance"),
    ServiceItem("home_adaptation", 31, _K, "适老化改造", "Age-friendly home adaptation"),
    ServiceItem("residential_care", 32, _K, "养老服务", "Residential elderly care"),
    ServiceItem("screening", None, _A, "对象排查", "Beneficiary screening"),
    ServiceItem("means_survey", None, _A, "家计调查", "Household means survey"),
    ServiceItem("economic_verification", None, _A, "家庭经济状况核对", "Household economic verification"),
    ServiceItem("home_verification", None, _A, "入户核查", "Home verification visit"),
    ServiceItem("selfcare_assessment", None, _A, "自理能力评估", "Self-care assessment"),
    ServiceItem("staff_training", None, _A, "业务培训", "Staff training"),
    ServiceItem("admin_policy_outreach", None, _A, "政策宣传(事务性)", "Policy outreach (administrative)"),
    ServiceItem("performance_evaluation", None, _A, "绩效评价", "Performance evaluation"),
    ServiceItem("assistance_coordination", None, _A, "社会救助协理", "Assistance coordination"),
    ServiceItem("custody_outsourcing", None, _A, "特困人员社会化托管", "Outsourced custody of extreme-poverty persons"),
)

SERVICES: dict[str, ServiceItem] = {item.code: item for item in SERVICE_ITEMS}


class ContractorType(Labelled):
    SOCIAL_ORGANISATION = ("social_organisation", "社会组织", "Social organisation")
    PUBLIC_INSTITUTION = ("public_institution", "公益二类/三类事业单位", "Public institution")
    ENTERPRISE = ("enterprise", "企业", "Enterprise")
    COMMUNITY_ORGANISATION = ("community_organisation", "集体经济组织/社区组织", "Collective or community organisation")
    NATURAL_PERSON = ("natural_person", "自然人", "Natural person")


class BeneficiaryCategory(Labelled):
    EXTREME_POVERTY = ("extreme_poverty", "特困人员", "Extreme-poverty dependent")
    DIBAO = ("dibao", "最低生活保障对象", "Minimum-living-allowance recipient")
    MARGINAL = ("marginal", "低保边缘家庭成员", "Member of a marginal household")
    RIGID_EXPENSE = ("rigid_expense", "刚性支出困难家庭成员", "Household in hardship from rigid expenses")
    RELAPSE_MONITORED = ("relapse_monitored", "防止返贫监测对象", "Monitored against relapse into poverty")


# A lower rank means deeper need; raising a category moves to a lower rank.
CATEGORY_RANK = {c: i for i, c in enumerate(BeneficiaryCategory)}


class SelfCareLevel(Labelled):
    SELF_RELIANT = ("self_reliant", "生活自理", "Self-reliant")
    PARTLY_LOST = ("partly_lost", "部分失能", "Partly lost self-care")
    FULLY_LOST = ("fully_lost", "完全失能", "Fully lost self-care")


class NeedIndicator(Labelled):
    INCOME = ("income", "收入困难", "Income hardship")
    HOUSING = ("housing", "住房困难", "Housing hardship")
    ILLNESS = ("illness", "疾病困难", "Illness hardship")
    DISABILITY = ("disability", "残疾困难", "Disability hardship")
    EDUCATION = ("education", "教育困难", "Education hardship")
    EMPLOYMENT = ("employment", "就业困难", "Employment hardship")
    CHILD_YOUTH = ("child_youth", "儿童青少年困难", "Child and youth hardship")
    FAMILY_STRUCTURE = ("family_structure", "家庭结构困难", "Family-structure hardship")
    SOCIAL_SECURITY = ("social_security", "社会保障困难", "Social-security hardship")
    SOCIAL_PARTICIPATION = ("social_participation", "社会参与困难", "Social-participation hardship")


class DeregistrationReason(Labelled):
    NO_LONGER_ELIGIBLE = ("no_longer_eligible", "不再符合条件", "No longer eligible")
    DECEASED = ("deceased", "死亡", "Deceased")
    MOVED_AWAY = ("moved_away", "迁出", "Moved away")
    DECLINED_ASSISTANCE = ("declined_assistance", "本人放弃", "Declined assistance")
    OTHER = ("other", "其他", "Other")


class ReferralChannel(Labelled):
    ONE_DOOR_WINDOW = ("one_door_window", "乡镇(街道)一门受理窗口", "Township one-door window")
    VILLAGE_COORDINATOR = ("village_coordinator", "村(社区)协理员", "Village coordinator")
    HOTLINE_12349 = ("hotline_12349", "12349热线", "Hotline 12349")
    OTHER_DEPARTMENT = ("other_department", "其他部门转介", "Other department")
    ACTIVE_DISCOVERY = ("active_discovery", "主动发现", "Active discovery")


class ProcurementMethod(Labelled):
    OPEN_TENDER = ("open_tender", "公开招标", "Public tender")
    INVITED_TENDER = ("invited_tender", "邀请招标", "Invited tender")
    COMPETITIVE_NEGOTIATION = ("competitive_negotiation", "竞争性谈判", "Competitive negotiation")
    COMPETITIVE_CONSULTATION = ("competitive_consultation", "竞争性磋商", "Competitive consultation")
    SINGLE_SOURCE = ("single_source", "单一来源", "Single source")
    REQUEST_FOR_QUOTATION = ("request_for_quotation", "询价", "Request for quotation")


class FundSource(Labelled):
    WORK_FUNDS = ("work_funds", "社会救助工作经费", "Social-assistance work funds")
    SPECIAL_FUNDS = ("special_funds", "专项资金", "Special funds")
    WELFARE_LOTTERY = ("welfare_lottery", "福利彩票公益金", "Welfare-lottery funds")
    # Sources named so that a request to draw on them is refused with a clear error (001 §二(四)6).
    BASIC_LIVING = ("basic_living", "基本生活救助资金", "Basic-living assistance money (not usable)")
    SPECIAL_ASSISTANCE = ("special_assistance", "专项救助资金", "Special assistance money (not usable)")


FORBIDDEN_FUND_SOURCES = frozenset({FundSource.BASIC_LIVING, FundSource.SPECIAL_ASSISTANCE})


class MilestoneKind(Labelled):
    SERVICE_VOLUME = ("service_volume", "服务量达标", "Service volume delivered")
    EVALUATION_PASSED = ("evaluation_passed", "评估合格", "Evaluation passed")
    ACCEPTANCE = ("acceptance", "项目验收", "Acceptance")
    DATE = ("date", "约定日期", "Agreed date")


class EvaluationStage(Labelled):
    MID_TERM = ("mid_term", "中期评估", "Mid-term evaluation")
    FINAL = ("final", "期末评估", "Final evaluation")
    SEMI_ANNUAL = ("semi_annual", "半年评估", "Semi-annual evaluation")
    SPECIAL = ("special", "专项评估", "Special evaluation")


class EvaluationIndicator(Labelled):
    ADMINISTRATION = ("administration", "行政管理", "Administration")
    RECORD_KEEPING = ("record_keeping", "规范性管理", "Record-keeping and rights protection")
    PROGRESS = ("progress", "进度管理", "Progress management")
    QUALITY_SYSTEM = ("quality_system", "服务质量体系与督导", "Quality system and supervision")
    RISK = ("risk", "风险管理与应急预案", "Risk and contingency")
    IMPLEMENTATION = ("implementation", "项目实施", "Implementation: staff, sites, equipment")
    EFFECTIVENESS = ("effectiveness", "项目成效", "Effectiveness")
    SATISFACTION = ("satisfaction", "满意度", "Satisfaction")
    SOCIAL_BENEFIT = ("social_benefit", "社会效益", "Social benefit")


class Grade(Labelled):
    EXCELLENT = ("excellent", "优秀", "Excellent")
    GOOD = ("good", "良好", "Good")
    QUALIFIED = ("qualified", "合格", "Qualified")
    UNQUALIFIED = ("unqualified", "不合格", "Unqualified")


class SpotCheckResult(Labelled):
    VERIFIED = ("verified", "核实无误", "Verified")
    NOT_FOUND = ("not_found", "查无此服务", "Service not found")
    FALSIFIED = ("falsified", "弄虚作假", "Falsified")


class ConfirmationChannel(Labelled):
    """How a beneficiary's word on a visit reached the ledger."""

    # The purchaser's follow-up (回访, 001 §二(四)4): recorded by the purchaser alone.
    FOLLOW_UP_CALL = ("follow_up_call", "电话回访", "Follow-up call by the purchaser")
    HOME_VISIT = ("home_visit", "入户回访", "Follow-up home visit by the purchaser")
    HOTLINE_12349 = ("hotline_12349", "12349热线反映", "The beneficiary's call to hotline 12349")
    # The beneficiary's own proof, which a contractor may hand in for its visit.
    BENEFICIARY_SIGNATURE = ("beneficiary_signature", "服务对象签字确认", "The beneficiary's own signature")


FOLLOW_UP_CHANNELS = frozenset({ConfirmationChannel.FOLLOW_UP_CALL, ConfirmationChannel.HOME_VISIT, ConfirmationChannel.HOTLINE_12349})


class TerminationReason(Labelled):
    FRAUD = ("fraud", "弄虚作假", "Fraud")
    BREACH = ("breach", "违约", "Breach of contract")
    MUTUAL = ("mutual", "协商解除", "Mutual agreement")
    OTHER = ("other", "其他", "Other")


class Role(Labelled):
    PURCHASER = ("purchaser", "购买主体(民政部门)", "Purchaser (civil-affairs officer)")
    CONTRACTOR = ("contractor", "承接主体", "Contractor")
    FINANCE = ("finance", "财政部门", "Finance bureau")
    AUDITOR = ("auditor", "审计部门", "Audit bureau")
    EVALUATOR = ("evaluator", "评估人员", "Evaluator")
    SYSTEM = ("system", "系统流程", "System process")


ENUMS: dict[str, type[Labelled]] = {
    "service_class": ServiceClass,
    "contractor_type": ContractorType,
    "beneficiary_category": BeneficiaryCategory,
    "self_care_level": SelfCareLevel,
    "need_indicator": NeedIndicator,
    "deregistration_reason": DeregistrationReason,
    "referral_channel": ReferralChannel,
    "procurement_method": ProcurementMethod,
    "fund_source": FundSource,
    "milestone_kind": MilestoneKind,
    "evaluation_stage": EvaluationStage,
    "evaluation_indicator": EvaluationIndicator,
    "grade": Grade,
    "spot_check_result": SpotCheckResult,
    "confirmation_channel": ConfirmationChannel,
    "termination_reason": TerminationReason,
    "role": Role,
}
