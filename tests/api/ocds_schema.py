"""The official OCDS 1.1.5 schemas (tests/ocds/, copied unchanged), for validating what the ledger
publishes: the package schema's reference to the release schema resolves to the local copy, so
nothing is fetched from the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).parent.parent / "ocds"
RELEASE_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def validator() -> Draft4Validator:
    release = json.loads((SCHEMAS / "release-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(RELEASE_URL, Resource.from_contents(release, default_specification=DRAFT4))
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text(encoding="utf-8"))
    return Draft4Validator(package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def assert_valid(package: dict[str, Any]) -> None:
    """Fails naming the first errors' paths, e.g. a demo city's `ledger publish` output."""
    errors = sorted(validator().iter_errors(package), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])
