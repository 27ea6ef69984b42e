"""/docs works on a network without internet: it is rendered on the server from the service's own
OpenAPI document, loads nothing but one stylesheet the service serves, runs no script, and lists
every operation and schema the document holds; /redoc leads there."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.docs import METHODS


class Page(HTMLParser):
    """What the page loads (src and href), its scripts, and the ids of its operations and schemas."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0
        self.ids: dict[str, set[str]] = {"op": set(), "schema": set()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self.scripts += tag == "script"
        if tag == "article" and found.get("class") in self.ids and found.get("id"):
            self.ids[str(found["class"])].add(str(found["id"]))


def read(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.mark.parametrize("address", ["/docs", "/redoc"])
def test_the_docs_page_loads_only_what_the_service_serves_itself_and_runs_no_script(client: TestClient, address: str) -> None:
    r = client.get(address)  # no token: the docs are public, as the schema is; /redoc is followed to /docs
    assert str(r.url).endswith("/docs"), r.url
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    assert not re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", r.text, flags=re.IGNORECASE), "the page names another host"
    page = read(r.text)
    assert page.scripts == 0
    loaded = [u for u in page.urls if not u.startswith("#")]
    assert "/openapi.json" in loaded and "/static/docs/reference.css" in loaded
    for url in loaded:
        assert url.startswith("/"), url
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)


def test_the_docs_page_lists_every_operation_and_every_schema_of_the_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    page = read(client.get("/docs").text)
    operations = {op["operationId"] for item in spec["paths"].values() for method, op in item.items() if method in METHODS}
    assert len(operations) > 60 and page.ids["op"] == operations
    assert page.ids["schema"] == {f"schema-{name}" for name in spec["components"]["schemas"]}
    # Every link inside the page leads to something on it.
    anchors = page.ids["op"] | page.ids["schema"] | {"schemas"} | {u[1:] for u in page.urls if u.startswith("#tag-")}
    assert {u[1:] for u in page.urls if u.startswith("#")} <= anchors


def test_an_operation_shows_its_parameters_limits_body_and_error_answers(client: TestClient) -> None:
    html = client.get("/docs").text
    visit = html[html.index('<code class="path">/visits</code>') :]
    visit = visit[: visit.index("</article>")]
    assert "Idempotency-Key" in visit and "maxLength" in visit  # the header and its declared limit
    assert 'href="#schema-RecordVisit"' in visit
    for status in ("201", "401", "409", "422"):
        assert f">{status}<" in visit, status


def test_a_missing_static_file_is_a_json_404_and_paths_outside_static_are_not_served(client: TestClient) -> None:
    r = client.get("/static/docs/nothing-here.css")
    assert r.status_code == 404
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        r = client.get(path)
        assert r.status_code == 404 and "create_app" not in r.text, path


def test_the_old_redoc_address_leads_permanently_to_the_docs_page(client: TestClient) -> None:
    r = client.get("/redoc", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (308, "/docs")
