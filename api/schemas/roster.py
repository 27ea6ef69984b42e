"""The beneficiary roster (花名册) as a CSV file: its columns with their zh-CN and English
labels, defined once here (the import reads a header in either language, or the field names),
and the answer, one result per row."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.parties import RegisterBeneficiary
from ledger.domain.catalogue import BeneficiaryCategory, Labelled, SelfCareLevel


@dataclass(frozen=True)
class Column:
    field: str  # the RegisterBeneficiary field it fills
    zh: str
    en: str
    aliases: tuple[str, ...] = ()  # other headers seen on village rosters
    enum: type[Labelled] | None = None  # cells may be a value or its zh / en label


COLUMNS = (
    Column("national_id", "身份证号码", "National ID number", ("身份证号", "公民身份号码")),
    Column("name", "姓名", "Name"),
    Column("household_id", "户编号", "Household ID", ("户号", "家庭编号")),
    Column("category", "救助类别", "Category", ("类别", "对象类别"), BeneficiaryCategory),
    Column("township", "乡镇(街道)", "Township", ("乡镇", "街道")),
    Column("village", "村(社区)", "Village", ("村", "社区", "村居")),
    Column("self_care_level", "自理能力", "Self-care level", ("自理情况",), SelfCareLevel),
)
assert {c.field for c in COLUMNS} == set(RegisterBeneficiary.model_fields), "a roster column per field of POST /beneficiaries"


def normalise(text: str) -> str:
    """A header or label as compared: full-width forms folded (（）→ ()), case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


HEADERS: dict[str, Column] = {normalise(h): c for c in COLUMNS for h in (c.field, c.zh, c.en, *c.aliases)}
ENUM_CELLS: dict[str, dict[str, str]] = {
    c.field: {normalise(h): m.value for m in c.enum for h in (m.value, m.label.zh, m.label.en)}  # type: ignore[attr-defined]
    for c in COLUMNS
    if c.enum is not None
}


def header_help() -> str:
    return "; ".join(f"{c.zh} / {c.en} ({c.field})" for c in COLUMNS)


class RosterRowResult(BaseModel):
    row: int = Field(description="The row in the file; the header is row 1")
    status: Literal["registered", "already_registered", "refused"]
    beneficiary_id: str | None = Field(default=None, description="registered or already_registered")
    position: int | None = Field(default=None, description="registered: the position of the registration in the global log")
    error: str | None = Field(default=None, description="refused: the stable code POST /beneficiaries would give the same row")
    detail: Any = Field(default=None, description="refused: why (never the ID number); already_registered: how it was known")


class RosterResult(BaseModel):
    results: list[RosterRowResult] = Field(description="One per row, in the file's order (blank lines skipped)")
    registered: int
    already_registered: int
    refused: int
    ignored_columns: list[str] = Field(description="Headers that name no roster column: their cells are not read")
    position: int = Field(description="The log position to pass as min_position to read the import's effects")
