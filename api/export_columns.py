"""The columns of every export, declared once: for each list its path and endpoint, the sheet's
title, and each column's key in the list's rows, its Chinese and English header and its kind
(how an XLSX cell is typed: money a number formatted 0.00, counts integers, times dates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from api.routers import lists, reads, trace

Kind = Literal["text", "money", "int", "date", "datetime", "percent", "bool"]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Export:
    path: str  # the list's path; the exports are <path>.csv and <path>.xlsx
    endpoint: Callable[..., Any]
    title: tuple[str, str]  # zh, en: the sheet's name and the file's
    columns: tuple[Column, ...]
    items: tuple[str, ...] = ("items",)  # where the rows sit in the list's answer


def C(key: str, zh: str, en: str, kind: Kind = "text") -> Column:
    return Column(key, zh, en, kind)


CONTRACT_MONEY = (
    C("contract_id", "合同编号(系统)", "Contract id"),
    C("contract_no", "合同号", "Contract no."),
    C("title", "合同名称", "Title"),
    C("contractor_id", "承接机构", "Contractor"),
    C("fund_id", "资金", "Fund"),
    C("status", "状态", "Status"),
    C("start_date", "开始日期", "Start date", "date"),
    C("end_date", "结束日期", "End date", "date"),
    C("signed_at", "签订时间", "Signed at", "datetime"),
    C("budget", "预算(元)", "Budget (yuan)", "money"),
    C("committed", "已承诺(元)", "Committed (yuan)", "money"),
    C("released", "已拨付(元)", "Released (yuan)", "money"),
    C("withheld", "已扣留(元)", "Withheld (yuan)", "money"),
    C("remaining", "余额(元)", "Remaining (yuan)", "money"),
)
TRANCHE = (
    C("contract_id", "合同", "Contract"),
    C("tranche_id", "款项", "Tranche"),
    C("milestone_id", "节点", "Milestone"),
    C("amount", "金额(元)", "Amount (yuan)", "money"),
    C("reduced", "核减(元)", "Reduced (yuan)", "money"),
    C("released", "已拨付(元)", "Released (yuan)", "money"),
    C("withheld", "已扣留(元)", "Withheld (yuan)", "money"),
    C("status", "状态", "Status"),
    C("released_at", "拨付时间", "Released at", "datetime"),
)
TRACED_VISIT = (
    C("visit_id", "服务记录", "Visit"),
    C("contract_id", "合同", "Contract"),
    C("contractor_id", "承接机构", "Contractor"),
    C("case_id", "个案", "Case"),
    C("beneficiary_id", "服务对象", "Beneficiary"),
    C("worker_id", "服务人员", "Worker"),
    C("service_code", "服务项目", "Service"),
    C("started_at", "开始时间", "Started at", "datetime"),
    C("ended_at", "结束时间", "Ended at", "datetime"),
    C("position", "日志位置", "Log position", "int"),
    C("unit_price", "单价(元)", "Unit price (yuan)", "money"),
    C("counts", "计入服务量", "Counts", "bool"),
    C("confirmation", "对象确认", "Confirmation"),
    C("voided", "已作废", "Voided", "bool"),
    C("spot_check", "抽查结果", "Spot check"),
)

EXPORTS = (
    Export(
        "/read/caseload",
        reads.caseload,
        ("个案负荷", "Caseload"),
        (
            C("key", "分组", "Group"),
            C("name", "名称", "Name"),
            C("contractor_id", "承接机构", "Contractor"),
            C("open_cases", "在办个案", "Open cases", "int"),
            C("overdue_cases", "逾期个案", "Overdue cases", "int"),
            C("beneficiaries_served", "服务对象数", "Beneficiaries served", "int"),
            C("visits_in_period", "期内服务次数", "Visits in period", "int"),
            C("cases_visited_in_period", "期内已服务个案", "Cases visited in period", "int"),
            C("last_visit_at", "最近服务时间", "Last visit at", "datetime"),
            C("enrolled_workers", "在册服务人员", "Enrolled workers", "int"),
        ),
    ),
    Export(
        "/read/contracts",
        reads.contracts,
        ("合同履约", "Contracts"),
        (*CONTRACT_MONEY, C("contracted", "合同服务量", "Units contracted", "int"), C("delivered", "已完成服务量", "Units delivered", "int"), C("share_done", "完成比例", "Share done", "percent")),
    ),
    Export(
        "/read/payable-tranches",
        reads.payable,
        ("待拨付款项", "Payable tranches"),
        (
            C("contract_no", "合同号", "Contract no."),
            *TRANCHE,
            C("milestone_title", "节点名称", "Milestone title"),
            C("fulfilled_at", "达成时间", "Fulfilled at", "datetime"),
            C("grade", "评估等级", "Grade"),
            C("payable", "应付(元)", "Payable (yuan)", "money"),
        ),
    ),
    Export(
        "/read/funds",
        reads.funds,
        ("资金使用", "Funds"),
        (
            C("fund_id", "资金", "Fund"),
            C("name", "名称", "Name"),
            C("source", "来源", "Source"),
            C("fiscal_year", "年度", "Fiscal year", "int"),
            C("appropriated", "批复(元)", "Appropriated (yuan)", "money"),
            C("committed", "已承诺(元)", "Committed (yuan)", "money"),
            C("disbursed", "已拨付(元)", "Disbursed (yuan)", "money"),
            C("available", "可用(元)", "Available (yuan)", "money"),
        ),
    ),
    Export(
        "/read/audit",
        reads.audit,
        ("审计轨迹", "Audit trail"),
        (
            C("position", "日志位置", "Log position", "int"),
            C("recorded_at", "记录时间", "Recorded at", "datetime"),
            C("actor_id", "操作人", "Actor"),
            C("role", "角色", "Role"),
            C("organisation_id", "机构", "Organisation"),
            C("correlation_id", "请求编号", "Correlation id"),
            C("aggregate_type", "对象类型", "Aggregate type"),
            C("aggregate_id", "对象", "Aggregate"),
            C("aggregate_version", "版本", "Version", "int"),
            C("event_type", "事件", "Event"),
            C("summary", "摘要", "Summary"),
            C("contract_id", "合同", "Contract"),
        ),
    ),
    Export(
        "/read/red-flags",
        reads.red_flags,
        ("风险提示", "Red flags"),
        (
            C("flag_id", "提示编号", "Flag"),
            C("kind", "类型", "Kind"),
            C("contractor_id", "承接机构", "Contractor"),
            C("contract_id", "合同", "Contract"),
            C("subject_id", "对象", "Subject"),
            C("raised_position", "提出位置", "Raised at position", "int"),
            C("raised_at", "提出时间", "Raised at", "datetime"),
            C("updated_position", "更新位置", "Updated at position", "int"),
            C("detail", "详情", "Detail"),
            C("evidence", "证据事件", "Evidence"),
        ),
    ),
    Export(
        "/read/visits",
        lists.visits,
        ("服务记录", "Visits"),
        (
            C("visit_id", "服务记录", "Visit"),
            C("case_id", "个案", "Case"),
            C("contract_id", "合同", "Contract"),
            C("contractor_id", "承接机构", "Contractor"),
            C("worker_id", "服务人员", "Worker"),
            C("beneficiary_id", "服务对象", "Beneficiary"),
            C("service_code", "服务项目", "Service"),
            C("township", "乡镇(街道)", "Township"),
            C("village", "村(社区)", "Village"),
            C("started_at", "开始时间", "Started at", "datetime"),
            C("ended_at", "结束时间", "Ended at", "datetime"),
            C("counts", "计入服务量", "Counts", "bool"),
            C("confirmation", "对象确认", "Confirmation"),
            C("voided", "已作废", "Voided", "bool"),
            C("spot_check", "抽查结果", "Spot check"),
            C("delivered_position", "日志位置", "Log position", "int"),
        ),
    ),
    *(
        Export(
            path,
            endpoint,
            title,
            (
                C("case_id", "个案", "Case"),
                C("beneficiary_id", "服务对象", "Beneficiary"),
                C("contract_id", "合同", "Contract"),
                C("contractor_id", "承接机构", "Contractor"),
                C("township", "乡镇(街道)", "Township"),
                C("village", "村(社区)", "Village"),
                C("self_care_level", "自理能力", "Self-care level"),
                C("channel", "转介渠道", "Channel"),
                C("services", "服务项目", "Services"),
                C("status", "状态", "Status"),
                C("visit_interval_days", "服务间隔(天)", "Visit interval (days)", "int"),
                C("referred_at", "转介时间", "Referred at", "datetime"),
                C("accepted_at", "接收时间", "Accepted at", "datetime"),
                C("ended_at", "结案时间", "Ended at", "datetime"),
                C("visit_count", "服务次数", "Visits", "int"),
                C("last_visit_at", "最近服务时间", "Last visit at", "datetime"),
                C("next_visit_due", "下次服务应于", "Next visit due", "datetime"),
            ),
        )
        for path, endpoint, title in (("/read/referrals/inbox", lists.inbox, ("待接收转介", "Referral inbox")), ("/read/cases", lists.cases, ("个案", "Cases")))
    ),
    Export(
        "/read/contractors/{contractor_id}/workers",
        lists.workers,
        ("服务人员", "Workers"),
        (
            C("worker_id", "服务人员", "Worker"),
            C("contractor_id", "承接机构", "Contractor"),
            C("name", "姓名", "Name"),
            C("qualification", "资质", "Qualification"),
            C("enrolled", "在册", "Enrolled", "bool"),
            C("enrolled_at", "登记时间", "Enrolled at", "datetime"),
            C("removed_at", "移除时间", "Removed at", "datetime"),
            C("open_cases", "在办个案", "Open cases", "int"),
            C("visits", "服务次数", "Visits", "int"),
            C("last_visit_at", "最近服务时间", "Last visit at", "datetime"),
        ),
    ),
    Export(
        "/trace/tranches/{contract_id}/{tranche_id}",
        trace.tranche,
        ("款项追溯", "Tranche trace"),
        (C("ordinal", "序号", "Ordinal", "int"), *TRACED_VISIT, C("stopped_counting_after_fulfilment", "达成后不再计入", "Stopped counting after fulfilment", "bool")),
        items=("visits", "items"),
    ),
    Export(
        "/trace/beneficiaries/{beneficiary_id}",
        trace.beneficiary,
        ("服务对象追溯", "Beneficiary trace"),
        (C("contract_no", "合同号", "Contract no."), *TRACED_VISIT, C("attributed", "归属金额(元)", "Attributed (yuan)", "money")),
        items=("services", "items"),
    ),
)
