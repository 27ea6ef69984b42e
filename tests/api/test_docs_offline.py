"""/docs works on a network without internet: every script, style and icon it loads is served by
the service itself from api/static/, and nothing on the page points elsewhere; /redoc leads there."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class References(HTMLParser):
    """Every URL the page loads or links to: src and href attributes, and the spec Swagger UI fetches."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_loads_only_assets_the_service_serves_itself(client: TestClient, page: str) -> None:
    r = client.get(page)  # no token: the docs are public, as the schema is; /redoc is followed to /docs
    assert str(r.url).endswith("/docs"), r.url
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    html = r.text
    assert not re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, flags=re.IGNORECASE), "the page names another host"
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html

    urls = references(html) + re.findall(r"url: '([^']+)'", html)  # Swagger UI's spec URL sits in its script
    assert "/openapi.json" in urls
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts and all(u.startswith("/static/") for u in scripts), urls
    for url in urls:
        assert url.startswith("/"), url
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        expected = next((kind for suffix, kind in ASSET_TYPES.items() if url.endswith(suffix)), "json")
        assert expected in answer.headers["content-type"], (url, answer.headers["content-type"])


def test_swagger_ui_asks_no_public_validator_for_a_badge(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_vendored_assets_ship_with_their_licences(client: TestClient) -> None:
    licences = {"/static/swagger-ui/LICENSE": "Apache License", "/static/swagger-ui/NOTICE": "SmartBear"}
    for path, words in licences.items():
        r = client.get(path)
        assert r.status_code == 200 and words in r.text, path


def test_a_missing_static_file_is_a_json_404_and_paths_outside_static_are_not_served(client: TestClient) -> None:
    r = client.get("/static/swagger-ui/nothing-here.js")
    assert r.status_code == 404
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        r = client.get(path)
        assert r.status_code == 404 and "create_app" not in r.text, path


def test_the_old_redoc_address_leads_permanently_to_the_docs_page(client: TestClient) -> None:
    r = client.get("/redoc", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (308, "/docs")
