"""A PostgreSQL outage under a served ledger, on a server of the test's own: while it is down every
request answers within 5 s, a JSON 503 with Retry-After (liveness still 200); when it returns the
service recovers by itself; re-sending every unacknowledged key records each visit exactly once,
and every acknowledged visit is in the log once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from eventsourcing.utils import get_topic

from ledger.bootstrap import build_ledger
from ledger.domain.visits import Visit
from ledger.settings import Settings
from tests.api.builders import build_world, visit_body
from tests.api.own_postgres import own_postgres
from tests.api.serving import ledger_env, serve

pytestmark = pytest.mark.postgres_only

ANSWER_WITHIN = 5.0
RECOVER_WITHIN = 20.0


def _ledger(url: str, env: dict[str, str]) -> Any:
    return build_ledger(Settings(environment="test", database_url=url, id_hash_key=env["LEDGER_ID_HASH_KEY"]))


def test_a_postgres_outage_answers_fast_503s_then_recovers_and_records_every_visit_once(tmp_path):
    with own_postgres() as pg:
        env = ledger_env(pg.url)
        issuer = _ledger(pg.url, env)

        def token_for(role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
            return {"Authorization": f"Bearer {issuer.issue_token(role, org, subject or role).token}"}

        with serve(env, tmp_path / "server.log") as served, httpx.Client(base_url=served.base, timeout=30) as client:
            world = build_world(client, token_for)  # type: ignore[arg-type]
            issuer.close()
            contractor = world.a.token
            bodies = {f"visit-{n}": visit_body(world.a.case_id, world.a.worker_id, hours_ago=10 + n) for n in range(40)}
            keys = iter(bodies)
            acknowledged: dict[str, str] = {}

            def post_visit(key: str) -> httpx.Response:
                return client.post("/visits", json=bodies[key], headers={**contractor, "Idempotency-Key": key})

            for key in [next(keys) for _ in range(5)]:
                r = post_visit(key)
                assert r.status_code == 201, r.text
                acknowledged[key] = r.json()["visit_id"]

            # --- PostgreSQL goes down -----------------------------------------------------
            pg.stop()
            unacknowledged: list[str] = []
            gets = ["/health", f"/visits/{world.a.visit_id}", f"/contracts/{world.a.contract_id}", "/read/contracts", "/projections/status"]

            def timed(request: tuple[str, str]) -> tuple[str, str, float, httpx.Response]:
                method, target = request
                started = time.monotonic()
                if method == "POST":
                    r = post_visit(target)
                else:
                    r = client.get(target, headers=world.purchaser)
                return method, target, time.monotonic() - started, r

            checked = 0
            with ThreadPoolExecutor(max_workers=6) as pool:
                for _ in range(2):  # two rounds of concurrent requests against the stopped store
                    round_keys = [next(keys) for _ in range(3)]
                    unacknowledged += round_keys
                    requests = [("POST", k) for k in round_keys] + [("GET", g) for g in gets]
                    for method, target, took, r in pool.map(timed, requests):
                        assert took < ANSWER_WITHIN, (method, target, took)
                        assert r.status_code == 503, (method, target, r.status_code, r.text)
                        assert int(r.headers["Retry-After"]) >= 1, (method, target)
                        assert r.json()["error"], (method, target, r.text)
                        checked += 1
            started = time.monotonic()
            assert client.get("/health/live").json() == {"status": "alive"}
            assert time.monotonic() - started < 1
            assert checked == 2 * (3 + len(gets))

            # --- it comes back: the service recovers without a restart --------------------
            pg.start()
            back = time.monotonic()
            while client.get("/health").status_code != 200:
                assert time.monotonic() - back < RECOVER_WITHIN, served.log()[-3000:]
                time.sleep(0.25)
            for key in unacknowledged:  # the client re-sends what it never saw acknowledged
                r = post_visit(key)
                assert r.status_code == 201, r.text
                acknowledged[key] = r.json()["visit_id"]
            for key, visit_id in list(acknowledged.items()):  # and a retry of any of them replays
                r = post_visit(key)
                assert r.status_code == 201 and r.json()["replayed"] is True and r.json()["visit_id"] == visit_id, r.text
            assert len(acknowledged) == 5 + len(unacknowledged)
            log = served.log()

        # --- the log holds every acknowledged visit exactly once ---------------------------
        reader = _ledger(pg.url, env)
        try:
            delivered = reader.recorder.select_notifications(start=None, limit=10_000, topics=[get_topic(Visit.Delivered)])
        finally:
            reader.close()
        originators = [str(n.originator_id) for n in delivered]
        assert len(originators) == len(set(originators)) == 2 + len(acknowledged)
        assert set(acknowledged.values()) <= set(originators)

    # The milestone follower backed off: one report per failure streak, not five a second.
    assert 1 <= log.count('"event": "milestone_process_failed"') <= 2 and '"event": "milestone_process_recovered"' in log
    assert "Traceback" not in log and "Exception in ASGI application" not in log
