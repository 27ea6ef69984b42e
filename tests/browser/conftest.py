"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium; never a
downloaded browser) against a real `ledger serve` on a free port, its SQLite store filled by
`ledger demo`. Every request the page makes is watched: one to any host but this machine is
aborted and fails the test."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.api.serving import LEDGER, Served, ledger_env, serve

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class City:
    """A served demo city: its address and what `ledger demo --json` printed."""

    served: Served
    demo: dict[str, Any]

    @property
    def base(self) -> str:
        return self.served.base

    def token(self, role: str) -> str:
        return self.demo["tokens"][role]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """A fresh store with the demo city, served by uvicorn: one per test module."""
    folder = tmp_path_factory.mktemp("city")
    env = ledger_env(f"sqlite:///{folder}/ledger.db")
    made = subprocess.run([LEDGER, "demo", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    with serve(env, folder / "serve.log") as served:
        yield City(served, json.loads(made.stdout))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    # open, and later tests that call asyncio.run (bench smoke tests) must not find one.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watched:
    """The page, and every URL it asked for, split by whether it stayed on this machine."""

    page: Page
    requested: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)  # e.g. what the page's CSP refused


def watched_page(browser: Browser, locale: str) -> Iterator[Watched]:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    watched.page.on("console", lambda message: watched.console_errors.append(message.text) if message.type == "error" else None)

    def guard(route: Route) -> None:
        url = route.request.url
        watched.requested.append(url)
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            watched.left.append(url)
            route.abort("internetdisconnected")  # the network is cut off: as on a government intranet

    context.route("**/*", guard)
    try:
        yield watched
    finally:
        context.close()
    assert watched.requested, "the page made requests"
    assert not watched.left, f"requests left the machine: {watched.left}"


@pytest.fixture
def zh_page(browser: Browser) -> Iterator[Watched]:
    yield from watched_page(browser, "zh-CN")


@pytest.fixture
def en_page(browser: Browser) -> Iterator[Watched]:
    yield from watched_page(browser, "en-US")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
