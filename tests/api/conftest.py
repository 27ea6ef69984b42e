from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.settings import Settings
from tests.api.builders import World, build_world
from tests.api.following import FollowingClient

Headers = dict[str, str]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """Real HTTP requests through the ASGI app, with its lifespan, on the store under test; after
    each accepted command it waits for the milestone follower (tests/api/following.py)."""
    with FollowingClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def token_for(client: TestClient) -> Callable[..., Headers]:
    """Issues a token the way `ledger token create` does and returns its Authorization header."""

    def issue(role: str, org: str | None = None, subject: str | None = None) -> Headers:
        issued = client.app.state.ledger.issue_token(role, org, subject or f"{role}-user")  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {issued.token}"}

    return issue


@pytest.fixture
def world(client: TestClient, token_for: Callable[..., Headers]) -> World:
    """Money, two contractors A and B, each with a worker, a beneficiary it serves, a contract,
    an accepted case, one visit and an open mid-term evaluation."""
    return build_world(client, token_for)
