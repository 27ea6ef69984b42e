"""The docs page's script and style under api/static/ are a third-party bundle vendored unmodified
(swagger-ui-dist 5.35.0, from the npm registry): their bytes equal the published package's as
recorded in api/static/SHA256SUMS. Its minified code is the upstream release, kept byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def recorded() -> dict[str, str]:
    lines = (STATIC / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


def test_every_vendored_file_is_byte_for_byte_the_published_release() -> None:
    sums = recorded()
    assert {"swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css"} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_nothing_is_vendored_without_its_recorded_digest() -> None:
    files = {str(p.relative_to(STATIC)) for folder in ("swagger-ui",) for p in (STATIC / folder).iterdir() if p.is_file()}
    assert files == set(recorded())
