"""`schema`: a draft-07 JSON Schema that agrees with the loader, kept fresh in schema/activation.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from activation_semantic.cli import app
from activation_semantic.errors import ActivationError
from activation_semantic.json_schema import definition_schema
from activation_semantic.loader import load_definition_text
from activation_semantic.report import dumps

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schema" / "activation.schema.json"
REGENERATE = "run: activation-semantic schema > schema/activation.schema.json"

VALID = """\
version: 2
name: trial
accounts:
  sql_table: accounts
  dimensions: [{name: plan, sql: plan, type: string}]
milestone_logs:
  sql: SELECT * FROM logs
  user_id: user_id
milestone_sets:
  - name: core
    milestones:
      - create_workspace
      - {value: "Invite a teammate", key: invite_teammate, title: Invite}
    require: 1
    within_days: 14
"""


def test_committed_schema_is_fresh() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == dumps(definition_schema()) + "\n", REGENERATE


def test_schema_command_prints_the_committed_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == COMMITTED.read_text(encoding="utf-8"), REGENERATE


def test_draft07_shape() -> None:
    schema = definition_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    text = json.dumps(schema)
    for newer in ("$defs", "prefixItems", "unevaluatedProperties", "dependentRequired", "$dynamicRef"):
        assert newer not in text, newer
    refs = [v for v in _walk(schema) if isinstance(v, dict) and "$ref" in v]
    assert refs and all(r["$ref"].startswith("#/definitions/") for r in refs)
    assert all(r["$ref"].split("/")[-1] in schema["definitions"] for r in refs)


def _walk(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, dict):
        for v in node.values():
            out += _walk(v)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v)
    return out


@pytest.fixture(scope="module")
def validator() -> Any:
    """A draft-07 validator over the committed schema (jsonschema is a dev dependency; skipped without it)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_examples_validate(validator: Any) -> None:
    examples = sorted((ROOT / "examples").glob("*/activation.yml"))
    assert examples
    for path in examples:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], (path, errors)


def _loader_accepts(text: str) -> bool:
    try:
        load_definition_text(text, "t.yml")
    except ActivationError:
        return False
    return True


@pytest.mark.parametrize(("text", "valid"), [
    (VALID, True),
    (VALID.replace("require: 1", "require: any"), True),
    (VALID.replace("version: 2", "version: 0"), False),
    (VALID.replace("version: 2\n", ""), False),
    (VALID.replace("name: trial", "name: Trial"), False),
    (VALID.replace("require: 1", "require: 0"), False),
    (VALID.replace("require: 1", "require: some"), False),
    (VALID.replace("within_days: 14", "within_days: 0"), False),
    (VALID.replace("    within_days: 14", "    within_dayz: 14"), False),
    (VALID.replace("  sql_table: accounts\n", ""), False),  # neither sql_table nor sql
    (VALID.replace("  sql_table: accounts\n", "  sql_table: accounts\n  sql: SELECT 1\n"), False),  # both
    (VALID.replace("      - create_workspace\n", "      - 42\n"), False),
    (VALID.replace("      - create_workspace\n", "      - ''\n"), False),
    (VALID.replace("type: string", "type: text"), False),
    (VALID.replace("version: 2", "version: 2\npercent_scale: 10"), False),
    (VALID.replace("version: 2", "version: 2\nnaming: snake\npercent_scale: 1\ndialect: bigquery"), True),
    (VALID.replace("milestones:\n      - create_workspace\n      - {value: \"Invite a teammate\", key: "
                   "invite_teammate, title: Invite}\n", "milestones: []\n"), False),
])
def test_schema_agrees_with_the_loader(validator: Any, text: str, valid: bool) -> None:
    assert _loader_accepts(text) is valid
    assert validator.is_valid(yaml.safe_load(text)) is valid


def test_init_writes_modeline_and_fresh_schema(tmp_path: Path, validator: Any) -> None:
    target = tmp_path / "example"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    definition = (target / "activation.yml").read_text(encoding="utf-8")
    first = definition.splitlines()[0]
    assert first == "# yaml-language-server: $schema=activation.schema.json"
    schema_path = target / first.split("$schema=", 1)[1]  # resolved next to the definition, as editors do
    assert schema_path.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")
    assert _loader_accepts(definition)
    assert validator.is_valid(yaml.safe_load(definition))
