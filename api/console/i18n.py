"""What the console says, in zh-CN and English; codes are labelled from the domain's catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.domain import catalogue
from ledger.domain.catalogue import SERVICES, Labelled

TEXT: dict[str, tuple[str, str]] = {
    "app": ("服务类社会救助台账", "Service-delivery ledger"),
    "console": ("工作台", "Console"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "token": ("访问令牌", "Access token"),
    "token_hint": ("请粘贴管理员发给您的令牌（ledger token create）。", "Paste the token your administrator issued (ledger token create)."),
    "bad_token": ("令牌无效或已被吊销。", "The token is unknown or revoked."),
    "signed_in_as": ("当前用户", "Signed in as"),
    "language": ("语言", "Language"),
    "role.purchaser": ("购买方（民政部门）", "Purchaser (civil affairs)"),
    "role.contractor": ("承接主体", "Contractor"),
    "role.finance": ("财务", "Finance"),
    "role.auditor": ("审计", "Auditor"),
    "role.evaluator": ("评估人员", "Evaluator"),
    "nav.funds": ("资金使用", "Funds"),
    "nav.contracts": ("合同履约", "Contracts"),
    "nav.referrals": ("转介", "Referrals"),
    "nav.beneficiaries": ("服务对象", "Beneficiaries"),
    "nav.contractors": ("承接主体", "Contractors"),
    "nav.inbox": ("转介待办", "Referral inbox"),
    "nav.cases": ("我的个案", "My cases"),
    "nav.visit": ("登记服务", "Post a visit"),
    "nav.upload": ("批量上传", "Upload visits"),
    "nav.tranches": ("待付款项", "Payable tranches"),
    "nav.trace": ("资金追溯", "Trace"),
    "nav.audit": ("审计日志", "Audit trail"),
    "nav.flags": ("风险提示", "Red flags"),
    "nav.verify": ("日志校验", "Log verification"),
    "nav.visits": ("服务记录", "Visits"),
    "fund": ("资金", "Fund"),
    "name": ("名称", "Name"),
    "source": ("来源", "Source"),
    "fiscal_year": ("年度", "Fiscal year"),
    "appropriated": ("预算", "Appropriated"),
    "committed": ("已承诺", "Committed"),
    "disbursed": ("已支付", "Disbursed"),
    "available": ("可用", "Available"),
    "fund_use": ("资金使用情况", "Fund use"),
    "by_township": ("按乡镇的已交付服务价值", "Delivered value by township"),
    "by_service_class": ("按服务类别的已交付服务价值", "Delivered value by service class"),
    "by_category": ("按救助类别", "By beneficiary category"),
    "delivered_value": ("已交付价值", "Delivered value"),
    "contracted": ("合同额", "Contracted"),
    "visits": ("服务次数", "Visits"),
    "contract": ("合同", "Contract"),
    "contract_no": ("合同编号", "Contract no."),
    "title": ("标题", "Title"),
    "contractor": ("承接主体", "Contractor"),
    "status": ("状态", "Status"),
    "budget": ("合同金额", "Budget"),
    "released": ("已拨付", "Released"),
    "withheld": ("暂扣", "Withheld"),
    "remaining": ("剩余", "Remaining"),
    "share_done": ("完成比例", "Done"),
    "delivered": ("已交付", "Delivered"),
    "lines": ("服务项目", "Service lines"),
    "milestones": ("节点", "Milestones"),
    "tranches": ("付款批次", "Tranches"),
    "tranche": ("付款批次", "Tranche"),
    "evaluations": ("评估", "Evaluations"),
    "service": ("服务项目", "Service"),
    "unit_price": ("单价", "Unit price"),
    "posted": ("已登记", "Posted"),
    "confirmed": ("已确认", "Confirmed"),
    "disputed": ("有异议", "Disputed"),
    "voided": ("已作废", "Voided"),
    "case": ("个案", "Case"),
    "beneficiary": ("服务对象", "Beneficiary"),
    "township": ("乡镇", "Township"),
    "village": ("村（社区）", "Village"),
    "referred_at": ("转介时间", "Referred"),
    "services": ("服务内容", "Services"),
    "visit_count": ("有效服务", "Visits counted"),
    "last_visit": ("最近服务", "Last visit"),
    "next_due": ("下次应访", "Next visit due"),
    "accept": ("接收", "Accept"),
    "decline": ("拒绝", "Decline"),
    "reason": ("原因", "Reason"),
    "accepted": ("已接收转介。", "Referral accepted."),
    "declined": ("已拒绝转介。", "Referral declined."),
    "worker": ("服务人员", "Worker"),
    "started_at": ("开始时间", "Started"),
    "ended_at": ("结束时间", "Ended"),
    "location": ("地点", "Location"),
    "notes": ("备注", "Notes"),
    "evidence_hash": ("凭证哈希（sha256:…）", "Evidence hash (sha256:…)"),
    "submit_visit": ("提交服务记录", "Record the visit"),
    "visit_recorded": ("服务记录已保存。", "The visit is recorded."),
    "times_local": ("时间按北京时间（UTC+8）填写。", "Times are Beijing time (UTC+8)."),
    "times_shown": ("所有时间均为北京时间（UTC+8）。", "All times are Beijing time (UTC+8)."),
    "csv_file": ("CSV 文件", "CSV file"),
    "upload": ("上传", "Upload"),
    "upload_hint": ("首行为列名：", "The first row names the columns: "),
    "row": ("行", "Row"),
    "result": ("结果", "Result"),
    "recorded": ("已记录", "Recorded"),
    "already_recorded": ("此前已记录", "Already recorded"),
    "refused": ("未通过", "Refused"),
    "payable": ("本次应付", "Would pay"),
    "amount": ("金额", "Amount"),
    "reduced": ("核减", "Reduced"),
    "grade": ("评估等级", "Grade"),
    "milestone": ("节点", "Milestone"),
    "fulfilled_at": ("达成时间", "Fulfilled"),
    "release": ("拨付", "Release"),
    "confirm_release": ("确认拨付", "Confirm the release"),
    "release_question": ("确认拨付以下款项？此操作记入不可更改的日志。", "Release this tranche? The release is recorded in the immutable log."),
    "cancel": ("取消", "Cancel"),
    "released_ok": ("已拨付。", "The tranche is released."),
    "trace_of": ("付款追溯", "Trace of a tranche"),
    "counted_visits": ("计入该节点的服务记录", "Visits its milestone counted"),
    "drawn_on": ("资金来源", "Drawn on"),
    "position": ("日志位置", "Log position"),
    "recorded_at": ("记录时间", "Recorded"),
    "actor": ("操作人", "Actor"),
    "role": ("角色", "Role"),
    "event_type": ("事件类型", "Event type"),
    "aggregate": ("对象", "Object"),
    "summary": ("摘要", "Summary"),
    "filter": ("筛选", "Filter"),
    "kind": ("类型", "Kind"),
    "subject": ("对象", "Subject"),
    "raised_at": ("提示时间", "Raised"),
    "detail": ("详情", "Detail"),
    "evidence": ("证据", "Evidence"),
    "verification": ("日志校验", "Log verification"),
    "verified_ok": ("日志完整：哈希链与存储的事件一致。", "The log is intact: the hash chain matches the stored events."),
    "verified_bad": ("日志校验未通过！", "The log failed verification!"),
    "events": ("事件数", "Events"),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "none": ("暂无记录。", "Nothing here."),
    "export": ("导出", "Export"),
    "all": ("全部", "All"),
    "view": ("查看", "View"),
    "trace": ("追溯", "Trace"),
    "open_cases": ("在服务个案", "Open cases"),
    "caseload": ("个案量", "Caseload"),
    "overdue": ("逾期", "Overdue"),
    "period_visits": ("近30天服务", "Visits, last 30 days"),
    "forbidden": ("您的角色不能查看此页面。", "Your role may not see this page."),
    "not_found": ("找不到该页面或记录。", "No such page or record."),
    "error": ("无法完成", "This could not be done"),
    "invalid": ("输入有误", "Some input is not valid"),
    "conflict": ("与当前状态冲突", "This conflicts with the current state"),
    "unavailable": ("系统暂时不可用，请稍后重试。", "The system is unavailable just now; try again shortly."),
    "csrf": ("表单已过期或来源不明，请刷新页面后重试。", "The form has expired or did not come from this console; reload the page and try again."),
    "back": ("返回", "Back"),
    "unexpected": ("系统出现意外错误，请将请求编号告知管理员。", "An unexpected error; quote the request id to your administrator."),
    "request_id": ("请求编号", "Request id"),
    "required": ("必填", "required"),
    "not_allowed": ("不是允许的取值", "not one of the allowed values"),
    "home": ("首页", "Home"),
    "code": ("错误代码", "Error code"),
    "checkpoint": ("检查点", "Checkpoint"),
    "through": ("校验至", "Verified through"),
    "delivered_value_by": ("已交付价值", "Delivered value"),
    "per_fund": ("各项资金的承诺、支付与可用额", "Committed, disbursed and available per fund"),
    "contracts_of_fund": ("该资金下的合同", "Contracts on this fund"),
    "lang.zh": ("中文", "中文"),
    "lang.en": ("English", "English"),
}

# The catalogue's enumerations by the name a column of the read models uses.
ENUMS: dict[str, type[Labelled]] = {
    "source": catalogue.FundSource,
    "role": catalogue.Role,
    "service_class": catalogue.ServiceClass,
    "category": catalogue.BeneficiaryCategory,
    "channel": catalogue.ReferralChannel,
    "self_care_level": catalogue.SelfCareLevel,
    "grade": catalogue.Grade,
    "kind": catalogue.MilestoneKind,
    "stage": catalogue.EvaluationStage,
}

STATUS: dict[str, tuple[str, str]] = {
    "referred": ("待接收", "Referred"),
    "accepted": ("服务中", "Accepted"),
    "declined": ("已拒绝", "Declined"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "closed": ("已结案", "Closed"),
    "active": ("履行中", "Active"),
    "suspended": ("已暂停", "Suspended"),
    "terminated": ("已终止", "Terminated"),
    "settled": ("已结清", "Settled"),
    "pending": ("待达成", "Pending"),
    "fulfilled": ("已达成", "Fulfilled"),
    "released": ("已拨付", "Released"),
    "withheld": ("暂扣", "Withheld"),
    "open": ("进行中", "Open"),
    "concluded": ("已完成", "Concluded"),
}


FLAG_KINDS: dict[str, tuple[str, str]] = {
    "deregistered_beneficiary": ("服务对象已注销仍有服务", "Service to a deregistered beneficiary"),
    "overlapping_visits": ("服务时间重叠", "Overlapping visits"),
    "worker_day_limit": ("单人单日服务次数过多", "Too many visits by one worker in a day"),
    "over_contracted_quantity": ("超出合同数量", "Beyond the contracted quantity"),
    "shared_evidence_hash": ("多条记录共用同一凭证", "One piece of evidence for several visits"),
    "disputes_and_failed_checks": ("异议或抽查不合格", "Disputes and failed spot checks"),
    "paid_above_confirmed": ("拨付超过已确认服务", "Paid above the confirmed services"),
}

# A tranche that is pending awaits its release, not its milestone.
TRANCHE_STATUS: dict[str, tuple[str, str]] = {**STATUS, "pending": ("待拨付", "Awaiting release")}


def t(lang: str, key: str) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def label(lang: str, kind: str, code: Any) -> str:
    """A code's label in the language; the code itself when nothing labels it."""
    if code is None:
        return "—"
    code = str(code)
    if kind == "service":
        item = SERVICES.get(code)
        return (item.zh if lang == "zh" else item.en) if item else code
    if kind == "flag":
        pair = FLAG_KINDS.get(code)
        return (pair[0] if lang == "zh" else pair[1]) if pair else code
    if kind in ("status", "tranche"):
        pair = (TRANCHE_STATUS if kind == "tranche" else STATUS).get(code)
        return (pair[0] if lang == "zh" else pair[1]) if pair else code
    enum = ENUMS.get(kind)
    if enum is not None:
        try:
            member = enum(code)
        except ValueError:
            return code
        return member.label.zh if lang == "zh" else member.label.en  # type: ignore[attr-defined]
    return code


def problems(lang: str, detail: Any) -> str:
    """A refusal's detail as a person reads it: validation problems as "field: what is wrong",
    without the long list of allowed values an enum's message spells out."""
    if not isinstance(detail, list):
        return "" if detail is None else str(detail)
    out = []
    for p in detail:
        if not isinstance(p, dict):
            out.append(str(p))
            continue
        where = ".".join(str(part) for part in p.get("loc", ()) if part not in ("body",))
        what = t(lang, "not_allowed") if p.get("type") in ("enum", "literal_error") else str(p.get("msg", ""))
        out.append(f"{where}: {what}" if where else what)
    return "; ".join(out)


# People read times as the clock on their wall: Beijing time, as the visit form takes them.
BEIJING = timezone(timedelta(hours=8))


def when(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time in Beijing time."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).strftime(fmt)


def money(value: Any) -> str:
    """¥1,234.50 from a Decimal or its string; never through a float."""
    if value is None:
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"¥{amount:,.2f}"


def percent(share: Any) -> str:
    """A ratio ("0.1503") as a percentage ("15.0%")."""
    try:
        return f"{Decimal(str(share)) * 100:.1f}%"
    except InvalidOperation:
        return str(share)
