from dataclasses import asdict, fields

from ledger.domain.actors import SYSTEM, Actor


def test_an_actor_is_stored_as_every_field_in_declared_order_and_read_back_equal():
    actor = Actor(actor_id="worker-7", role="contractor", organisation_id="org-1", correlation_id="c-1")
    stored = actor.as_dict()
    assert list(stored) == [f.name for f in fields(Actor)]
    assert stored == asdict(actor)
    assert Actor.from_dict(stored) == actor


def test_the_system_actor_keeps_its_missing_organisation_when_stored():
    assert SYSTEM.as_dict()["organisation_id"] is None
    assert Actor.from_dict(SYSTEM.as_dict()) == SYSTEM
