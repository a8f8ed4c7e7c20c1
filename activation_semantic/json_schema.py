"""JSON Schema of the definition format, from the Pydantic models, for editors."""

from __future__ import annotations

from typing import Any

from activation_semantic.definition import Definition

SCHEMA_ID = "https://activation-semantic.dev/schema/definition.json"


def definition_schema() -> dict[str, Any]:
    schema = Definition.model_json_schema(mode="validation")
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "activation-semantic definition"
    return _draft07(schema)


def _draft07(node: Any) -> Any:
    """Pydantic emits 2020-12 `$defs`; draft-07 tools want `definitions`."""
    if isinstance(node, dict):
        out = {("definitions" if k == "$defs" else k): _draft07(v) for k, v in node.items()}
        if isinstance(out.get("$ref"), str):
            out["$ref"] = out["$ref"].replace("#/$defs/", "#/definitions/")
        return out
    if isinstance(node, list):
        return [_draft07(x) for x in node]
    return node
