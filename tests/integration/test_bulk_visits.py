"""Posting many visits at once: each item answered alone, recorded exactly once however often
the batch is sent, by the same rules as a single visit."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

import pytest
from eventsourcing.utils import get_topic

from ledger.bootstrap import build_ledger
from ledger.bulk_visits import VisitDraft
from ledger.domain import limits
from ledger.domain.errors import Forbidden, LedgerError
from ledger.domain.limits import OutOfRange
from ledger.domain.visits import Visit
from ledger.processes import MilestoneProcess
from projections import queries
from projections.runner import ProjectionRunner
from projections.store import make_engine, migrate
from tests.integration.helpers import PURCHASER, VOLUME, VOLUME_QUANTITY, World, register_contractor


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def draft(world: World, case_id: str, n: int = 0, **changes) -> VisitDraft:
    ended = datetime.now(timezone.utc) - timedelta(hours=2, minutes=n)
    base = VisitDraft(
        client_id=f"device-7/{uuid.uuid4().hex}",
        case_id=case_id,
        worker_id=world.worker,
        service_code="visiting",
        started_at=ended - timedelta(minutes=40),
        ended_at=ended,
        location="home",
        notes=None,
        evidence_hash="sha256:" + "ab" * 32,
    )
    return replace(base, **changes)


def visits_in_store(world: World) -> int:
    return len(world.ledger.recorder.select_notifications(start=1, limit=1_000_000, topics=[get_topic(Visit.Delivered)]))


def single_post_error(world: World, d: VisitDraft) -> str:
    """The code POST /visits gives the same visit."""
    try:
        world.ledger.record_visit(
            world.contractor,
            case_id=d.case_id,
            worker_id=d.worker_id,
            service_code=d.service_code,
            started_at=d.started_at,
            ended_at=d.ended_at,
            location=d.location,
            notes=d.notes,
            evidence_hash=d.evidence_hash,
        )
    except LedgerError as e:
        return e.code
    raise AssertionError("the single post records what the batch refused")


class TestPerItemResults:
    def test_each_visit_of_a_batch_is_recorded_and_answered_in_the_order_sent(self, world, ledger):
        cases = [world.case(), world.case()]
        drafts = [draft(world, cases[n % 2], n) for n in range(5)]
        results = ledger.record_visits(world.contractor, drafts)
        assert [r.client_id for r in results] == [d.client_id for d in drafts]
        assert {r.status for r in results} == {"recorded"}
        positions = [r.position for r in results]
        assert positions == sorted(positions) and len(set(positions)) == 5
        for d, r in zip(drafts, results, strict=True):
            visit = ledger.get_visit(PURCHASER, r.visit_id)
            assert (visit["case_id"], visit["worker_id"], visit["ended_at"]) == (d.case_id, d.worker_id, d.ended_at)

    def test_a_refused_visit_does_not_sink_its_neighbours_and_gives_the_code_a_single_post_gives(self, world, ledger):
        case_id = world.case()
        other = register_contractor(ledger, name="Another Centre")
        good = [draft(world, case_id, n) for n in range(3)]
        bad = [
            draft(world, str(uuid.uuid4())),  # CaseNotFound
            draft(world, "not-an-id"),  # CaseNotFound
            draft(world, case_id, worker_id=other.workers[0]),  # Subcontracting
            draft(world, case_id, service_code="meals"),  # ServiceNotReferred
            draft(world, case_id, service_code="bathing"),  # ServiceNotContracted
            draft(world, case_id, ended_at=good[0].started_at - timedelta(minutes=1)),  # InvalidPeriod
            draft(world, case_id, notes="x" * (limits.VISIT_NOTES.max_length + 1)),  # InvalidText
        ]
        expected = [single_post_error(world, d) for d in bad]
        head = ledger.head()
        results = ledger.record_visits(world.contractor, [good[0], *bad[:4], good[1], *bad[4:], good[2]])
        statuses = [r.status for r in results]
        assert statuses == ["recorded"] + ["refused"] * 4 + ["recorded"] + ["refused"] * 3 + ["recorded"]
        refused = [r for r in results if r.status == "refused"]
        assert [r.error for r in refused] == expected
        assert expected[:4] == ["CaseNotFound", "CaseNotFound", "Subcontracting", "ServiceNotReferred"]
        assert all(r.detail and r.visit_id is None and r.position is None for r in refused)
        assert visits_in_store(world) == 3 and ledger.head() == head + 3

    def test_a_contractor_suspended_refuses_every_item_alone(self, world, ledger):
        case_id = world.case()
        ledger.suspend_contractor(PURCHASER, world.org.contractor_id, "inquiry")
        results = ledger.record_visits(world.contractor, [draft(world, case_id, n) for n in range(2)])
        assert [r.error for r in results] == ["ContractorSuspended"] * 2

    def test_another_contractors_case_is_not_found(self, world, ledger):
        other = register_contractor(ledger, name="Another Centre")
        results = ledger.record_visits(other.actor, [draft(world, world.case(), worker_id=other.workers[0])])
        assert results[0].error == "CaseNotFound"


class TestRetries:
    def test_a_batch_sent_again_records_nothing_twice_and_answers_the_first_ids_and_positions(self, world, ledger):
        drafts = [draft(world, world.case(), n) for n in range(4)]
        first = ledger.record_visits(world.contractor, drafts)
        head = ledger.head()
        again = ledger.record_visits(world.contractor, drafts)
        assert [r.status for r in again] == ["already_recorded"] * 4
        assert [(r.visit_id, r.position) for r in again] == [(r.visit_id, r.position) for r in first]
        assert ledger.head() == head and visits_in_store(world) == 4

    def test_a_retry_with_refused_and_new_items_records_only_what_is_new_and_valid(self, world, ledger):
        case_id = world.case()
        sent = [draft(world, case_id, 1), draft(world, case_id, 2, service_code="bathing")]
        ledger.record_visits(world.contractor, sent)
        fixed = replace(sent[1], service_code="visiting")  # the refused one, corrected, same client_id
        results = ledger.record_visits(world.contractor, [sent[0], fixed, draft(world, case_id, 3)])
        assert [r.status for r in results] == ["already_recorded", "recorded", "recorded"]
        assert visits_in_store(world) == 3

    def test_a_client_id_sent_again_with_other_content_is_refused_as_a_reused_key(self, world, ledger):
        d = draft(world, world.case())
        ledger.record_visits(world.contractor, [d])
        results = ledger.record_visits(world.contractor, [replace(d, notes="changed")])
        assert (results[0].status, results[0].error) == ("refused", "IdempotencyKeyReused")

    def test_a_client_id_repeated_in_one_batch_is_answered_as_a_retry_of_its_first_occurrence(self, world, ledger):
        case_id = world.case()
        d = draft(world, case_id)
        results = ledger.record_visits(world.contractor, [d, draft(world, case_id, 1), d, replace(d, notes="other")])
        assert [r.status for r in results] == ["recorded", "recorded", "already_recorded", "refused"]
        assert results[2].visit_id == results[0].visit_id and results[2].position == results[0].position
        assert results[3].error == "IdempotencyKeyReused"
        assert visits_in_store(world) == 2

    def test_client_ids_belong_to_one_contractor_organisation(self, world, ledger):
        other = register_contractor(ledger, name="Another Centre")
        other_world = World(ledger=ledger, fund_id=world.fund_id, org=other, contract_id=world.contract_id)
        d = draft(world, world.case())
        ours = ledger.record_visits(world.contractor, [d])[0]
        theirs = ledger.record_visits(other.actor, [replace(d, worker_id=other_world.worker)])[0]
        assert ours.status == "recorded" and theirs.error == "CaseNotFound"  # not "already recorded"

    def test_retries_of_the_same_batch_racing_record_each_visit_once(self, world, ledger):
        cases = [world.case() for _ in range(3)]
        drafts = [draft(world, cases[n % 3], n) for n in range(60)]
        answers: list[list] = []
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def send() -> None:
            try:
                start.wait()
                answers.append(ledger.record_visits(world.contractor, drafts))
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(answers) == 4
        assert visits_in_store(world) == 60
        ids = {tuple((r.visit_id, r.position) for r in answer) for answer in answers}
        assert len(ids) == 1  # every retry names the same visits at the same positions
        recorded = sum(r.status == "recorded" for answer in answers for r in answer)
        assert recorded == 60
        assert all(r.status in ("recorded", "already_recorded") for answer in answers for r in answer)


class TestBatchSize:
    def test_a_batch_holds_one_to_a_thousand_visits(self, world, ledger):
        d = draft(world, world.case())
        with pytest.raises(OutOfRange):
            ledger.record_visits(world.contractor, [])
        with pytest.raises(OutOfRange):
            ledger.record_visits(world.contractor, [replace(d, client_id=str(n)) for n in range(limits.VISITS_PER_BATCH.max_items + 1)])
        assert visits_in_store(world) == 0

    def test_only_a_contractor_posts_a_batch(self, world, ledger):
        with pytest.raises(Forbidden):
            ledger.record_visits(PURCHASER, [draft(world, world.case())])


class TestFollowers:
    def test_a_batch_that_reaches_a_volume_milestone_fulfils_it(self, world, ledger):
        drafts = [draft(world, world.case(), n) for n in range(VOLUME_QUANTITY + 2)]
        results = ledger.record_visits(world.contractor, drafts)
        MilestoneProcess(ledger).run_until_idle()
        milestone = world.milestone(VOLUME)
        assert milestone["status"] == "fulfilled" and milestone["basis"]["delivered"] >= VOLUME_QUANTITY
        fulfilled = [e for e in ledger.events.get(uuid.UUID(world.contract_id)) if type(e).__name__ == "MilestoneFulfilled"]
        assert fulfilled[0].counted == [{"visit_id": r.visit_id, "position": r.position} for r in results[:VOLUME_QUANTITY]]

    def test_bulk_visits_are_ordinary_visits_to_the_rest_of_the_ledger(self, world, ledger):
        result = ledger.record_visits(world.contractor, [draft(world, world.case())])[0]
        ledger.void_visit(world.contractor, result.visit_id, "entered twice")
        assert ledger.get_visit(PURCHASER, result.visit_id)["voided"]
        assert isinstance(ledger.repository.get(uuid.UUID(result.visit_id)), Visit)


class TestRulesBetweenBatches:
    def test_a_case_closed_after_one_batch_refuses_the_next(self, world, ledger):
        case_id = world.case()
        assert ledger.record_visits(world.contractor, [draft(world, case_id, 1)])[0].status == "recorded"
        ledger.close_case(world.contractor, case_id, "services complete")
        assert ledger.record_visits(world.contractor, [draft(world, case_id, 2)])[0].error == "CaseStateConflict"

    def test_a_beneficiary_deregistered_after_one_batch_refuses_the_next(self, world, ledger):
        beneficiary_id = world.beneficiary()
        case_id = world.case(beneficiary_id)
        assert ledger.record_visits(world.contractor, [draft(world, case_id, 1)])[0].status == "recorded"
        ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "deceased", "")
        assert ledger.record_visits(world.contractor, [draft(world, case_id, 2)])[0].error == "BeneficiaryDeregistered"


class TestWorkerDayLimit:
    """The limit of visits per worker and day is a red flag the read side raises from the log, so
    it counts a batch's visits like single ones: within one batch and across batches."""

    DAY_LIMIT = 3

    def test_a_worker_past_the_day_limit_across_two_batches_is_flagged_once(self, settings):
        app = build_ledger(settings.model_copy(update={"max_visits_per_worker_day": self.DAY_LIMIT}))
        engine = make_engine(settings.sqlalchemy_url())
        try:
            migrate(engine)
            runner = ProjectionRunner(app, engine)
            runner.ensure_positions()
            world = World.build(app)
            case_id = world.case()
            day = datetime.combine(datetime.now(timezone.utc).date() - timedelta(days=1), time(8), tzinfo=timezone.utc)
            visits = [draft(world, case_id, started_at=day + timedelta(hours=h), ended_at=day + timedelta(hours=h, minutes=50)) for h in range(5)]
            app.record_visits(world.contractor, visits[:2])
            app.record_visits(world.contractor, visits[:4])  # two retried, two new: four that day
            MilestoneProcess(app).run_until_idle()
            runner.run_until_idle()
            with engine.connect() as conn:
                items, _ = queries.red_flags(conn, org=None, limit=100)
            (flag,) = [i for i in items if i["kind"] == "worker_day_limit"]
            assert flag["detail"]["visits"] == 4 and flag["detail"]["limit"] == self.DAY_LIMIT
        finally:
            engine.dispose()
            app.close()
