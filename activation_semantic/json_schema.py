"""JSON Schema of the definition format, from the Pydantic models, for editors (draft-07, yaml-language-server).

The Pydantic models are the source of truth; this module only adapts their schema to draft-07 and adds what
a `BeforeValidator` accepts but Pydantic cannot see (the short `- value` milestone form), the bounds that
`checks.py` enforces in code, and hover help for the keys people edit most.
"""

from __future__ import annotations

from typing import Any

from activation_semantic.definition import Definition

SCHEMA_ID = "https://activation-semantic.dev/schema/definition.json"
SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"

_HELP: dict[tuple[str, str], str] = {
    ("Definition", "version"): "Bump it whenever what counts as activated changes (`diff` fails on a breaking "
                               "change without a bump).",
    ("Definition", "name"): "Identifier of the definition; names the generated view.",
    ("Definition", "dialect"): "Warehouse SQL dialect of the generated model.",
    ("Definition", "naming"): "camel: the seed's member names (percentQualified); snake: percent_qualified.",
    ("Definition", "percent_scale"): "100: percents from 0 to 100 (the seed's); 1: ratios from 0 to 1.",
    ("Definition", "pre_aggregations"): "Also emit a Cube rollup for the additive activation measures.",
    ("Definition", "milestone_sets"): "At least one set; the FIRST set is the primary one behind percentQualified.",
    ("MilestoneSet", "name"): "Set identifier, part of member names (core -> coreQualifiedAccounts).",
    ("MilestoneSet", "milestones"): "Milestone values exactly as they appear in the logs, in funnel order.",
    ("MilestoneSet", "require"): "all (default), any, or a number N of distinct milestones to complete.",
    ("MilestoneSet", "within_days"): "Count only completions within N days of the account's created_at.",
    ("Milestone", "value"): "The milestone name exactly as it appears in the logs (case-sensitive).",
    ("Milestone", "key"): "Identifier used in member names; derived from the value when omitted.",
    ("AccountsSource", "sql_table"): "Accounts table; give exactly one of sql_table or sql.",
    ("AccountsSource", "sql"): "A SELECT returning the accounts; give exactly one of sql_table or sql.",
    ("LogsSource", "sql_table"): "Milestone log table; give exactly one of sql_table or sql.",
    ("LogsSource", "sql"): "A SELECT returning the milestone logs; give exactly one of sql_table or sql.",
    ("LogsSource", "user_id"): "Column of the user who completed the milestone (adds ContributingUsers members).",
}

_EXACTLY_ONE_SOURCE = [{"required": ["sql_table"]}, {"required": ["sql"]}]


def definition_schema() -> dict[str, Any]:
    schema = Definition.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    defs["Definition"] = schema  # so _HELP can address the root like any other model
    for (model, prop), text in _HELP.items():
        target = defs.get(model, {}).get("properties", {}).get(prop)
        if target is not None:
            target["description"] = text
    del defs["Definition"]
    _milestone_short_form(defs)
    _require_bounds(defs)
    for source in ("AccountsSource", "LogsSource"):
        if source in defs:
            defs[source]["oneOf"] = _EXACTLY_ONE_SOURCE
    out = {"$schema": SCHEMA_DRAFT, "$id": SCHEMA_ID, "title": "activation-semantic definition"}
    out.update({k: v for k, v in schema.items() if k not in out})
    return _draft07(out)


def _milestone_short_form(defs: dict[str, Any]) -> None:
    """`- create_workspace` is a milestone too (definition._milestone turns it into {value: ...})."""
    value = defs["Milestone"]["properties"]["value"]
    short = {k: value[k] for k in ("type", "minLength", "maxLength") if k in value}
    milestones = defs["MilestoneSet"]["properties"]["milestones"]
    milestones["items"] = {"anyOf": [short, milestones["items"]]}


def _require_bounds(defs: dict[str, Any]) -> None:
    for option in defs["MilestoneSet"]["properties"]["require"].get("anyOf", []):
        if option.get("type") == "integer":
            option["minimum"] = 1


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
