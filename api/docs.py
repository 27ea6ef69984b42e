"""`/docs`: the API reference, rendered on the server from the service's own OpenAPI document, and
the `/static` mount.

A government intranet has no internet, so FastAPI's default pages stay blank there: they load
their scripts, styles and fonts from public CDNs. This page is plain HTML from a Jinja2 template
with one small stylesheet of ours. It uses no script and no third-party bundle, and it lists every
operation with its parameters, body, answers and error codes, and every schema with its fields.
Tools that want the machine-readable form read `/openapi.json`. `/redoc` leads here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
TEMPLATES = Path(__file__).parent / "docs_templates"
METHODS = ("get", "post", "put", "patch", "delete")
CONSTRAINTS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "format", "default")


@dataclass
class Entry:
    name: str
    type: str
    ref: str | None
    required: bool
    notes: str
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    secured: bool
    parameters: list[Entry] = field(default_factory=list)
    body: list[tuple[str, str, str | None]] = field(default_factory=list)  # (media type, type, schema ref)
    responses: list[tuple[str, str, str | None]] = field(default_factory=list)  # (status, description, schema ref)


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def type_of(schema: dict[str, Any]) -> tuple[str, str | None]:
    """A short reading of a schema's type, and the component schema it names, if one."""
    if name := _ref_name(schema):
        return name, name
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [type_of(s) for s in schema[key]]
            ref = next((r for _, r in parts if r), None)
            return (" and " if key == "allOf" else " or ").join(t for t, _ in parts), ref
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]), None
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False), None
    kind = schema.get("type", "any")
    if kind == "array":
        inner, ref = type_of(schema.get("items", {}))
        return f"array of {inner}", ref
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        inner, ref = type_of(schema["additionalProperties"])
        return f"map of {inner}", ref
    return str(kind), None


def notes_of(schema: dict[str, Any]) -> str:
    """The schema's constraints: the limits a value must keep (lengths, patterns, ranges)."""
    found = {k: schema[k] for k in CONSTRAINTS if k in schema}
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            found |= {k: option[k] for k in CONSTRAINTS if k in option and k not in found}
    return "; ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in found.items())


def _field(name: str, schema: dict[str, Any], required: bool) -> Entry:
    kind, ref = type_of(schema)
    return Entry(name, kind, ref, required, notes_of(schema), schema.get("description", ""))


def operations(spec: dict[str, Any]) -> dict[str, list[Operation]]:
    """Every operation of the document, grouped by its first tag in the document's order."""
    groups: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            entry = Operation(
                method=method.upper(),
                path=path,
                summary=op.get("summary", ""),
                description=op.get("description", ""),
                anchor=op.get("operationId") or f"{method}-{path}",
                secured=bool(op.get("security")),
            )
            for p in op.get("parameters", []):
                f = _field(p["name"], p.get("schema", {}), bool(p.get("required")))
                f.notes = "; ".join(n for n in (p["in"], f.notes) if n)
                f.description = p.get("description", f.description)
                entry.parameters.append(f)
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                kind, ref = type_of(content.get("schema", {}))
                entry.body.append((media, kind, ref))
            for status, answer in op.get("responses", {}).items():
                answered: dict[str, Any] = next(iter(answer.get("content", {}).values()), {})
                schema = answered.get("schema", {})
                entry.responses.append((status, answer.get("description", ""), type_of(schema)[1] if schema else None))
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(entry)
    return groups


def schemas(spec: dict[str, Any]) -> dict[str, tuple[str, list[Entry]]]:
    """Every component schema: its description and its fields (or, for an enum, its values)."""
    out: dict[str, tuple[str, list[Entry]]] = {}
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        fields = [_field(n, s, n in required) for n, s in schema.get("properties", {}).items()]
        description = schema.get("description", "")
        if not fields and schema.get("type") != "object":
            description = " ".join(x for x in (description, type_of(schema)[0]) if x)
        out[name] = (description, fields)
    return out


def install_docs(app: FastAPI) -> None:
    """Call with FastAPI(docs_url=None, redoc_url=None): these routes replace the CDN-backed ones."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    page: dict[str, str] = {}  # rendered once: the document does not change while the service runs

    @app.get("/docs", include_in_schema=False)
    def reference() -> HTMLResponse:
        if "html" not in page:
            spec = app.openapi()
            page["html"] = env.get_template("reference.html").render(
                info=spec.get("info", {}),
                groups=operations(spec),
                schemas=schemas(spec),
                openapi_url=app.openapi_url or "/openapi.json",
                static=STATIC_URL,
            )
        return HTMLResponse(page["html"])

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)  # FastAPI's other docs address, kept for bookmarks
