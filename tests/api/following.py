"""A test client that waits for the milestone follower, as a reader of the service would.

The service no longer runs the milestone process inside a visit command: the command wakes the
follower, which fulfils the milestones a moment later. A test that checks a milestone, a tally or
a release right after its visits waits for that moment: after each accepted POST this client runs
the follower until it finds nothing new (the service's own follower thread may run beside it: the
process takes one batch at a time and saves its position with its events, so each visit counts once)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


class FollowingClient(TestClient):
    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        if method.upper() == "POST" and response.status_code < 300:
            follower = getattr(self.app.state, "milestones", None)  # type: ignore[attr-defined]
            if follower is not None:
                follower.catch_up()
        return response
