"""The volume tally keeps which visits count, in log order, so a fulfilment can name them."""

from __future__ import annotations

from typing import Any

from ledger.domain.actors import SYSTEM
from ledger.domain.records import VolumeTally


def replayed(tally: VolumeTally) -> Any:
    """The tally rebuilt from its own events, as a repository would."""
    copy = None
    for e in tally.collect_events():
        copy = e.mutate(copy)
    return copy


def tally_with(*added: tuple[str, str, int]) -> VolumeTally:
    tally = VolumeTally(contract_id="c-1", by=SYSTEM)
    deltas: dict[str, int] = {}
    for code, _, _ in added:
        deltas[code] = deltas.get(code, 0) + 1
    tally.add(deltas, 100, SYSTEM, added=[list(a) for a in added])
    return tally


class TestCountedVisits:
    def test_a_milestone_of_one_service_counts_that_service_s_visits_in_log_order(self):
        tally = replayed(tally_with(("meals", "v1", 3), ("bathing", "v2", 4), ("meals", "v3", 7), ("meals", "v4", 9)))
        assert tally.counted_for("meals", 2) == [{"visit_id": "v1", "position": 3}, {"visit_id": "v3", "position": 7}]

    def test_a_milestone_of_every_service_merges_them_by_position(self):
        tally = tally_with(("meals", "v1", 3), ("bathing", "v2", 4), ("meals", "v3", 7))
        assert [c["visit_id"] for c in tally.counted_for(None, 10)] == ["v1", "v2", "v3"]

    def test_a_visit_that_stops_counting_leaves_the_list_and_the_count(self):
        tally = tally_with(("meals", "v1", 3), ("meals", "v2", 4))
        tally.add({"meals": -1}, 101, SYSTEM, removed=[["meals", "v1"]])
        tally = replayed(tally)
        assert (tally.count_for("meals"), tally.counted_for("meals", 5)) == (1, [{"visit_id": "v2", "position": 4}])

    def test_a_visit_added_and_removed_in_one_batch_is_not_counted(self):
        tally = VolumeTally(contract_id="c-1", by=SYSTEM)
        tally.add({"meals": 0}, 100, SYSTEM, added=[["meals", "v1", 3]], removed=[["meals", "v1"]])
        assert replayed(tally).counted_for("meals", 5) == []

    def test_a_tally_recorded_before_it_kept_its_visits_replays_with_its_counts(self):
        tally = VolumeTally(contract_id="c-1", by=SYSTEM)
        tally._tallied(deltas={"meals": 2}, through=100, by=SYSTEM)  # the event as recorded before
        old = replayed(tally)
        del old.__dict__["counting"]  # as a snapshot taken before restores it
        old.add({"meals": 1}, 101, SYSTEM, added=[["meals", "v3", 7]])
        assert (old.count_for("meals"), old.counted_for("meals", 3)) == (3, [{"visit_id": "v3", "position": 7}])
