"""The OCDS mapping's codes come from the standard's codelists (tests/ocds/, copied unchanged)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from ledger.domain.catalogue import MilestoneKind, ProcurementMethod
from projections import ocds

CODELISTS = Path(__file__).parent.parent / "ocds"


def codes(name: str) -> set[str]:
    with open(CODELISTS / name, encoding="utf-8") as f:
        return {row["Code"] for row in csv.DictReader(f)}


def test_every_procurement_method_of_the_ledger_maps_to_an_ocds_method() -> None:
    assert set(ocds.METHODS) == {m.value for m in ProcurementMethod}
    assert set(ocds.METHODS.values()) <= codes("method.csv")
    assert ocds.METHODS["single_source"] == "direct" and ocds.METHODS["invited_tender"] == "selective"


def test_every_milestone_kind_maps_to_an_ocds_milestone_type() -> None:
    assert set(ocds.MILESTONE_TYPES) == {k.value for k in MilestoneKind}
    assert set(ocds.MILESTONE_TYPES.values()) <= codes("milestoneType.csv")


def test_a_package_written_a_release_at_a_time_is_the_package_written_whole() -> None:
    publisher = ocds.Publisher(ocid_prefix="ocds-x-", name="p", payer_id="f", payer_name="F", supplier_scheme="CN-SAIC")
    published = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    releases = [{"ocid": "ocds-x-1", "value": {"amount": Decimal("1200.50")}}, {"ocid": "ocds-x-2", "value": {"amount": Decimal("3500.00")}}]
    for some in (releases, releases[:1]):
        whole = json.loads(ocds.as_json(ocds.release_package(publisher, some, published, "u")))
        assert json.loads(b"".join(ocds.package_chunks(publisher, iter(some), published, "u"))) == whole
    assert whole["releases"][0]["value"]["amount"] == 1200.5
    assert json.loads(b"".join(ocds.package_chunks(publisher, iter(releases), published, "u")))["releases"][1]["value"]["amount"] == 3500
