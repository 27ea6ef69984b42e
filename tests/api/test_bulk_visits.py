"""POST /visits/batch and /visits/batch.csv over HTTP: each visit answered alone, a batch sent
again records nothing twice, and the read models take a batch like single visits."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ledger.domain import limits
from projections.runner import NAMES, Rebuilder
from tests.api.builders import World, head, visit_body
from tests.api.test_read_models import dump

BATCH, CSV = "/visits/batch", "/visits/batch.csv"


def item(world: World, n: int = 0, side: str = "a", **changes: Any) -> dict[str, Any]:
    s = getattr(world, side)
    body = visit_body(s.case_id, s.worker_id, hours_ago=2)
    ended = datetime.fromisoformat(body["ended_at"]) - timedelta(minutes=n)
    body.update(started_at=(ended - timedelta(minutes=30)).isoformat(), ended_at=ended.isoformat())
    return {"client_id": f"phone-3/{uuid.uuid4()}", **body, **changes}


def send(client: TestClient, world: World, visits: list[dict[str, Any]], status: int = 200) -> dict[str, Any]:
    r = client.post(BATCH, json={"visits": visits}, headers=world.a.token)
    assert r.status_code == status, r.text
    return r.json()


def visit_count(client: TestClient, world: World) -> int:
    return len(client.app.state.ledger.recorder.select_notifications(start=1, limit=1_000_000, topics=["ledger.domain.visits:Visit.Delivered"]))


class TestPerVisitResults:
    def test_a_batch_answers_each_visit_in_the_order_sent_with_its_id_and_position(self, client, world):
        visits = [item(world, n) for n in range(3)]
        answer = send(client, world, visits)
        assert (answer["recorded"], answer["already_recorded"], answer["refused"]) == (3, 0, 0)
        assert [r["client_id"] for r in answer["results"]] == [v["client_id"] for v in visits]
        for r in answer["results"]:
            assert r["status"] == "recorded" and set(r) == {"client_id", "status", "visit_id", "position"}
            got = client.get(f"/visits/{r['visit_id']}", headers=world.a.token)
            assert got.status_code == 200 and got.json()["case_id"] == world.a.case_id
        assert answer["position"] == max(r["position"] for r in answer["results"]) <= head(client)

    def test_valid_and_refused_visits_mixed_are_each_answered_and_the_valid_ones_recorded(self, client, world):
        before = visit_count(client, world)
        good = [item(world, n) for n in range(3)]
        bad = {
            "CaseNotFound": item(world, case_id=str(uuid.uuid4())),
            "Subcontracting": item(world, worker_id=world.b.worker_id),
            "InvalidPeriod": item(world, ended_at=good[0]["started_at"]),
            "ServiceNotContracted": item(world, service_code="visiting"),
            "ValidationError": {k: v for k, v in item(world).items() if k != "worker_id"},
        }
        single = {code: client.post("/visits", json={k: v for k, v in body.items() if k != "client_id"}, headers=world.a.token) for code, body in bad.items()}
        assert {code: r.json()["error"] for code, r in single.items()} == {code: code for code in bad}  # what POST /visits answers
        answer = send(client, world, [good[0], *bad.values(), good[1], good[2]])
        statuses = [r["status"] for r in answer["results"]]
        assert statuses == ["recorded"] + ["refused"] * 5 + ["recorded"] * 2
        assert [r["error"] for r in answer["results"][1:6]] == list(bad)
        assert answer["results"][5]["detail"][0]["loc"] == ["worker_id"]
        assert (answer["recorded"], answer["refused"]) == (3, 5)
        assert visit_count(client, world) == before + 3

    def test_a_visit_refused_by_its_shape_keeps_its_client_id_in_the_answer(self, client, world):
        answer = send(client, world, [item(world, location="x" * (limits.LOCATION.max_length + 1), client_id="c-1"), item(world, client_id="")])
        assert [(r["client_id"], r["error"]) for r in answer["results"]] == [("c-1", "ValidationError"), (None, "ValidationError")]


class TestRetries:
    def test_a_batch_sent_again_records_nothing_twice(self, client, world):
        visits = [item(world, n) for n in range(5)]
        first = send(client, world, visits)
        position = head(client)
        again = send(client, world, visits)
        assert (again["recorded"], again["already_recorded"]) == (0, 5)
        assert [(r["visit_id"], r["position"]) for r in again["results"]] == [(r["visit_id"], r["position"]) for r in first["results"]]
        assert head(client) == position

    def test_a_client_id_sent_again_for_another_visit_is_refused(self, client, world):
        v = item(world)
        send(client, world, [v])
        answer = send(client, world, [{**v, "notes": "another visit"}])
        assert answer["results"][0]["error"] == "IdempotencyKeyReused"

    def test_retries_of_one_batch_racing_record_each_visit_once(self, client, world):
        before = visit_count(client, world)
        visits = [item(world, n) for n in range(40)]
        answers: list[dict[str, Any]] = []
        start = threading.Barrier(3)

        def retry() -> None:
            start.wait()
            answers.append(send(client, world, visits))

        threads = [threading.Thread(target=retry) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 3
        assert sum(a["recorded"] for a in answers) == 40 and sum(a["already_recorded"] for a in answers) == 80
        assert len({tuple(r["visit_id"] for r in a["results"]) for a in answers}) == 1
        assert visit_count(client, world) == before + 40


class TestWholeRequestFaults:
    def test_a_thousand_visits_are_taken_and_a_thousand_and_one_refused(self, client, world):
        visits = [item(world, n % 60) for n in range(limits.VISITS_PER_BATCH.max_items + 1)]
        r = client.post(BATCH, json={"visits": visits}, headers=world.a.token)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        answer = send(client, world, visits[:-1])
        assert answer["recorded"] == limits.VISITS_PER_BATCH.max_items

    def test_an_empty_batch_a_malformed_body_and_another_role_are_refused_whole(self, client, world):
        assert client.post(BATCH, json={"visits": []}, headers=world.a.token).status_code == 422
        r = client.post(BATCH, content=b"{not json", headers={**world.a.token, "Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["error"] == "ValidationError"
        r = client.post(BATCH, json={"visits": [item(world)]}, headers=world.purchaser)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
        r = client.post(BATCH, json={"visits": [item(world)]})
        assert r.status_code == 401


def csv_file(rows: list[list[str]], bom: bool = True) -> bytes:
    text = "\r\n".join(",".join(cells) for cells in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


class TestCsv:
    COLUMNS = ["client_id", "case_id", "worker_id", "service_code", "started_at", "ended_at", "location", "notes"]

    def row(self, world: World, n: int, **changes: Any) -> list[str]:
        v = {**item(world, n), "notes": "", **changes}
        return [str(v[c]) for c in self.COLUMNS]

    def post_csv(self, client: TestClient, world: World, body: bytes, status: int = 200) -> dict[str, Any]:
        r = client.post(CSV, content=body, headers={**world.a.token, "Content-Type": "text/csv; charset=utf-8"})
        assert r.status_code == status, r.text
        return r.json()

    def test_a_csv_file_with_a_bom_and_a_bad_row_records_the_good_rows_and_refuses_the_bad_alone(self, client, world):
        good = [self.row(world, n) for n in range(3)]
        short = self.row(world, 9)[:5]
        wrong_service = self.row(world, 10, service_code="no-such-service")
        body = csv_file([self.COLUMNS, good[0], short, good[1], [], wrong_service, good[2]])
        answer = self.post_csv(client, world, body)
        got = [(r["row"], r["status"], r.get("error")) for r in answer["results"]]
        assert got == [
            (2, "recorded", None),
            (3, "refused", "MalformedRow"),
            (4, "recorded", None),
            (6, "refused", "ValidationError"),
            (7, "recorded", None),
        ]
        assert answer["results"][1]["client_id"] == short[0]
        assert (answer["recorded"], answer["refused"]) == (3, 2)
        again = self.post_csv(client, world, body)
        assert again["already_recorded"] == 3 and again["recorded"] == 0

    def test_a_csv_file_without_its_required_columns_or_rows_is_refused_whole(self, client, world):
        r = self.post_csv(client, world, csv_file([self.COLUMNS[:3], ["a", "b", "c"]]), status=422)
        assert r["error"] == "InvalidCsv"
        assert self.post_csv(client, world, csv_file([self.COLUMNS]), status=422)["error"] == "InvalidCsv"
        assert self.post_csv(client, world, b"", status=422)["error"] == "InvalidCsv"
        assert self.post_csv(client, world, b"\xff\xfe" + "client_id".encode("utf-16-le"), status=400)["error"] == "MalformedRequest"
        r = client.post(CSV, content=csv_file([self.COLUMNS, self.row(world, 1)]), headers={**world.a.token, "Content-Type": "application/json"})
        assert r.status_code == 415


class TestFollowers:
    def test_a_batch_that_reaches_the_volume_milestone_fulfils_it(self, client, world):
        send(client, world, [item(world, n) for n in range(3)])  # with the world's own visit, past the quantity of 3
        contract = client.get(f"/contracts/{world.a.contract_id}", headers=world.purchaser).json()
        assert next(m for m in contract["milestones"] if m["milestone_id"] == "volume")["status"] == "fulfilled"

    def test_the_read_models_after_batches_equal_a_rebuild(self, client, world):
        send(client, world, [item(world, n) for n in range(200)])
        send(client, world, [item(world, 0, worker_id=world.b.worker_id), *(item(world, n + 300) for n in range(50))])
        read_side = client.app.state.read_side
        # The head, not the batch's position: the milestone process's events come after it.
        assert read_side.wait_for(client.app.state.ledger.head(), NAMES, 30)
        before = dump(read_side.engine)
        rebuilder = Rebuilder(client.app.state.ledger, read_side.engine)
        for name in NAMES:
            rebuilder.rebuild(name)
        after = dump(read_side.engine)
        for table in before:
            assert after[table] == before[table], table
