"""Render the OpenAPI document (server/api/openapi.yaml) as docs/api.md.

    python -m server.api.openapi_docs           # write docs/api.md
    python -m server.api.openapi_docs --check   # exit 1 if docs/api.md is not what it would write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from server.api.openapi import load_document

__all__ = ["DOCS_PATH", "render"]

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("get", "put", "post", "delete", "patch")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return name.lower()


def _type(schema: dict[str, Any]) -> str:
    """A short type for a table cell: `integer or null`, `array of [Submission](#submission)`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    if "allOf" in schema:  # a named object, perhaps with fields added: name the first part
        return _type(schema["allOf"][0])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        values = " \\| ".join(f"`{v}`" for v in schema["enum"] if v is not None)
        return values + (" or null" if None in schema["enum"] else "")
    types = schema.get("type", "any")
    types = types if isinstance(types, list) else [types]
    words = []
    for t in types:
        if t == "array":
            words.append(f"array of {_type(schema.get('items', {}))}")
        else:
            words.append(t)
    return " or ".join(words)


def _fields(schema: dict[str, Any], doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, following allOf and $ref."""
    props: dict[str, Any] = {}
    required: set[str] = set()
    for part in schema.get("allOf", []):
        sub = _resolve(part, doc)
        p, r = _fields(sub, doc)
        props.update(p)
        required |= r
    props.update(schema.get("properties", {}))
    required |= set(schema.get("required", []))
    return props, required


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _field_table(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    props, required = _fields(schema, doc)
    if not props:
        return []
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, sub in props.items():
        lines.append(f"| `{name}` | {_type(sub)} | {'yes' if name in required else ''} | "
                     f"{_cell(sub.get('description', ''))} |")
    return lines


def _example(value: Any, media_type: str = "application/json") -> list[str]:
    if isinstance(value, str) and not media_type.endswith("json"):
        return ["```" + media_type.rsplit("/", 1)[-1], value.rstrip("\n"), "```"]
    return ["```json", json.dumps(value, ensure_ascii=False, indent=2), "```"]


def _route_title(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def _operation(method: str, path: str, op: dict[str, Any], shared: list[dict[str, Any]],
               doc: dict[str, Any]) -> list[str]:
    out = [f"### `{_route_title(method, path)}`", "", op["summary"], ""]
    out += [f"**Who:** {', '.join(op['x-roles'])}.", ""]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    params = [_resolve(p, doc) for p in shared + op.get("parameters", [])]
    if params:
        out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            default = f" (default `{schema['default']}`)" if "default" in schema else ""
            out.append(f"| `{p['name']}` | {p['in']} | {_type(schema)}{default} | "
                       f"{'yes' if p.get('required') else ''} | {_cell(p.get('description', ''))} |")
        out.append("")
    body = op.get("requestBody")
    if body:
        out += ["**Request body** (" + ", ".join(f"`{t}`" for t in body["content"]) + "):", ""]
        for media_type, media in body["content"].items():
            schema = media.get("schema", {})
            if schema.get("type") == "object" or "allOf" in schema:
                out += [f"Fields (`{media_type}`):", ""] + _field_table(schema, doc) + [""]
            elif "oneOf" in schema:
                for choice in schema["oneOf"]:
                    out += ["One of:", ""] if choice is schema["oneOf"][0] else []
                    out += _field_table(choice, doc) + [""]
            if "example" in media:
                out += [f"Example (`{media_type}`):", ""] + _example(media["example"], media_type) + [""]
    out += ["| status | meaning | body |", "|---|---|---|"]
    examples: list[tuple[str, Any]] = []
    inline: list[tuple[str, dict[str, Any]]] = []
    for status, response in op["responses"].items():
        ref = _ref_name(response["$ref"]) if "$ref" in response else None
        response = _resolve(response, doc)
        kinds = []
        for media_type, media in response.get("content", {}).items():
            schema = media.get("schema", {})
            kinds.append(f"`{media_type}` {_type(schema) if ('$ref' in schema or 'allOf' in schema) else ''}".strip())
            if "example" in media and ref is None:
                examples.append((status, media["example"]))
            if (schema.get("type") == "object" and schema.get("properties") and len(schema["properties"]) > 1) \
                    or schema.get("additionalProperties") is False:
                inline.append((status, schema))
        meaning = response["description"] if ref is None else f"[{ref}](#errors): {response['description']}"
        out.append(f"| {status} | {_cell(meaning)} | {'; '.join(kinds)} |")
    out.append("")
    for status, schema in inline:
        out += [f"Body of {status}:", ""] + _field_table(schema, doc) + [""]
    for status, value in examples:
        out += [f"Example {status}:", ""] + _example(value) + [""]
    return out


def render(doc: dict[str, Any] | None = None) -> str:
    """Return docs/api.md for the document."""
    doc = doc if doc is not None else load_document()
    info = doc["info"]
    out = [
        f"# HTTP API: {info['title']} {info['version']}",
        "",
        "<!-- Generated from server/api/openapi.yaml by `python -m server.api.openapi_docs`; do not edit. -->",
        "",
        f"The OpenAPI {doc['openapi']} document is served at `GET /api/v1/openapi.json`; its source is "
        "`server/api/openapi.yaml`.",
        "",
        info["description"].strip(),
        "",
        "## Routes",
        "",
        "| method and path | who | does |",
        "|---|---|---|",
    ]
    operations = [(path, method, item, item[method]) for path, item in doc["paths"].items()
                  for method in METHODS if method in item]
    for path, method, _, op in operations:
        anchor = "".join(c for c in _route_title(method, path).lower().replace(" ", "-") if c.isalnum() or c in "-_")
        out.append(f"| [`{_route_title(method, path)}`](#{anchor}) | {', '.join(op['x-roles'])} | "
                   f"{_cell(op['summary'])} |")
    out.append("")
    for tag in doc["tags"]:
        out += [f"## {tag['name'].capitalize()}", "", tag["description"], ""]
        for path, method, item, op in operations:
            if tag["name"] in op.get("tags", []):
                out += _operation(method, path, op, item.get("parameters", []), doc)
    out += ["## Errors", "", "Every error body is an [Error](#error).", "", "| response | meaning |", "|---|---|"]
    for name, response in doc["components"]["responses"].items():
        out.append(f"| {name} | {_cell(response['description'])} |")
    out.append("")
    for name, response in doc["components"]["responses"].items():
        for media in response.get("content", {}).values():
            if "example" in media:
                out += [f"Example, {name}:", ""] + _example(media["example"]) + [""]
    out += ["", "## Objects", ""]
    for name, schema in doc["components"]["schemas"].items():
        out += [f"### {name}", ""]
        if schema.get("description"):
            out += [schema["description"], ""]
        table = _field_table(schema, doc)
        out += (table + [""]) if table else [f"{_type(schema)}" + (f"; pattern `{schema['pattern']}`"
                                                                    if "pattern" in schema else ""), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else ""
        if current != text:
            print(f"{DOCS_PATH} is out of date: run `python -m server.api.openapi_docs`", file=sys.stderr)
            return 1
        return 0
    DOCS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
