"""Finance's worklist: what a release would pay now, and nothing under appeal."""

from __future__ import annotations

import pytest

from projections import queries
from projections.runner import ProjectionRunner
from projections.store import make_engine, migrate
from tests.integration.helpers import FINANCE, PURCHASER, T_MID_TERM, World


@pytest.fixture
def worklist(ledger, settings):
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    runner = ProjectionRunner(ledger, engine)
    runner.ensure_positions()

    def read() -> dict[str, dict]:
        runner.run_until_idle()
        with engine.connect() as conn:
            items, _ = queries.payable_tranches(conn, org=None, policy=ledger.policy)
        return {t["tranche_id"]: t for t in items}

    yield read
    engine.dispose()


def test_an_evaluation_tranche_shows_the_share_its_grade_pays_and_waits_during_an_appeal(ledger, worklist):
    world = World.build(ledger)
    evaluation_id = world.evaluation(stage="mid_term", score=70)  # qualified: 80% is paid
    assert worklist()[T_MID_TERM]["payable"] == "800.00"
    assert worklist()[T_MID_TERM]["amount"] == "1000.00"

    ledger.appeal_evaluation(world.contractor, evaluation_id, "the sample was too small")
    assert T_MID_TERM not in worklist()

    ledger.resolve_appeal(PURCHASER, evaluation_id, True, {"effectiveness": 100, "satisfaction": 100, "social_benefit": 100}, "revised")
    item = worklist()[T_MID_TERM]
    assert item["grade"] == "good" and item["payable"] == "1000.00"
    ledger.release_tranche(FINANCE, world.contract_id, T_MID_TERM)
    assert T_MID_TERM not in worklist()


def test_a_reduction_lowers_what_the_worklist_says_a_release_pays(ledger, worklist):
    world = World.build(ledger)
    world.evaluation(stage="mid_term", score=95)
    ledger.reduce_tranche(FINANCE, world.contract_id, T_MID_TERM, "150.00", "late reports")
    assert worklist()[T_MID_TERM]["payable"] == "850.00"
    ledger.release_tranche(FINANCE, world.contract_id, T_MID_TERM)
    assert world.tranche(T_MID_TERM)["released_amount"] == 850
