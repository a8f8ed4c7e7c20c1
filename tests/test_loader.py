"""Definition validation: every rule of SPEC §2, reported as file:line:col: path: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from activation_semantic.errors import DefinitionInvalid, Exit, InputError
from activation_semantic.loader import load_definition

HEAD = """version: 3
name: team
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
milestone_sets:
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "activation.yml"
    path.write_text(text, encoding="utf-8")
    return load_definition(path, display="activation.yml")


def messages(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(DefinitionInvalid) as exc:
        load(tmp_path, text)
    assert exc.value.exit_code == Exit.FINDINGS
    return [str(f) for f in exc.value.findings]


CASES = [
    ("  - name: core\n    milestones: [a, b, c]\n    require: 4\n",
     ["activation.yml:10:14: milestone_sets[0].require: 4 is more than the 3 milestones in set 'core'"]),
    ("  - name: core\n    milestones: [a]\n    requier: 1\n",
     ["activation.yml:10:5: milestone_sets[0].requier: unknown key 'requier' (did you mean 'require'?)"]),
    ("  - name: core\n    milestones: [a]\n    within_days: 0\n",
     ["activation.yml:10:18: milestone_sets[0].within_days: must be 1 or more, got 0"]),
    ("  - name: core\n    milestones: [a]\n    within_days: -3\n",
     ["activation.yml:10:18: milestone_sets[0].within_days: must be 1 or more, got -3"]),
    ("  - name: core\n    milestones: [a]\n    within_days: '14'\n",
     ["activation.yml:10:18: milestone_sets[0].within_days: must be a whole number, got '14'"]),
    ("  - name: core\n    milestones: [a]\n    require: 0\n",
     ["activation.yml:10:14: milestone_sets[0].require: 0 is not allowed; use a whole number of milestones, 1 or more"]),
    ("  - name: core\n    milestones: [a]\n    require: most\n",
     ["activation.yml:10:14: milestone_sets[0].require: must be all, any, or a whole number of milestones (1 or more)"]),
    ("  - name: Core\n    milestones: [a]\n",
     ["activation.yml:8:11: milestone_sets[0].name: 'Core' is not allowed: use lowercase letters, digits and _, "
      "starting with a letter (e.g. core_activation)"]),
    ("  - name: core\n    milestones: [a]\n  - name: core\n    milestones: [b]\n",
     ["activation.yml:10:11: milestone_sets[1].name: set name 'core' is already used by milestone_sets[0]; "
      "set names must be unique"]),
    ("  - name: core\n    milestones: [a, a]\n",
     ["activation.yml:9:21: milestone_sets[0].milestones[1]: milestone 'a' is listed twice in set 'core' "
      "(also milestones[0]); list it once"]),
    ("  - name: core\n    milestones: [Invite teammate, invite-teammate]\n",
     ["activation.yml:9:35: milestone_sets[0].milestones[1]: key 'invite_teammate' (derived from 'invite-teammate') "
      "is also the key of milestones[0] in set 'core'; give one of them a distinct key"]),
    ("  - name: core\n    milestones: []\n",
     ["activation.yml:9:17: milestone_sets[0].milestones: must have at least one entry"]),
    ("  - name: core\n    milestones: [a, 5]\n",
     ["activation.yml:9:21: milestone_sets[0].milestones[1]: must be a milestone value (text) or a mapping with "
      "value/key/title, got 5"]),
    ("  - name: core\n    milestones: [{value: a, key: Bad-Key}]\n",
     ["activation.yml:9:34: milestone_sets[0].milestones[0].key: 'Bad-Key' is not allowed: use lowercase letters, "
      "digits and _, starting with a letter (e.g. core_activation)"]),
    ("  - name: core\n    milestones: [qualified]\n",
     ["activation.yml:9:18: milestone_sets[0].milestones[0]: member name 'coreQualifiedAccounts' collides with "
      "'coreQualifiedAccounts' (from milestone_sets[0].name) in cube 'Accounts'; rename the set, the key or the dimension"]),
]


@pytest.mark.parametrize(("sets", "expected"), CASES)
def test_invalid_definitions(tmp_path: Path, sets: str, expected: list[str]) -> None:
    assert messages(tmp_path, HEAD + sets) == expected


def test_all_errors_at_once(tmp_path: Path) -> None:
    text = HEAD.replace("version: 3", "version: 0") + "  - name: core\n    milestones: [a]\n    requier: 1\n"
    found = messages(tmp_path, text)
    assert found == [
        "activation.yml:1:10: version: must be 1 or more, got 0",
        "activation.yml:10:5: milestone_sets[0].requier: unknown key 'requier' (did you mean 'require'?)",
    ]


def test_exactly_one_source(tmp_path: Path) -> None:
    text = HEAD.replace("  sql_table: accounts\n", "  sql_table: accounts\n  sql: SELECT * FROM accounts\n")
    found = messages(tmp_path, text + "  - name: core\n    milestones: [a]\n")
    assert found == ["activation.yml:4:3: accounts: set exactly one of sql_table (a table name) or sql (a SELECT)"]


def test_dimension_collides_with_generated_member(tmp_path: Path) -> None:
    text = HEAD.replace("  sql_table: accounts\n",
                        "  sql_table: accounts\n  dimensions:\n    - {name: core_activated, sql: x}\n")
    found = messages(tmp_path, text + "  - name: core\n    milestones: [a]\n")
    assert len(found) == 1 and "member name 'coreActivated' collides with 'core_activated'" in found[0]


def test_unknown_dialect_and_scale(tmp_path: Path) -> None:
    text = HEAD.replace("name: team\n", "name: team\ndialect: oracle\npercent_scale: 10\n")
    found = messages(tmp_path, text + "  - name: core\n    milestones: [a]\n")
    assert found == [
        "activation.yml:3:10: dialect: must be one of duckdb, postgres, snowflake, bigquery; got 'oracle'",
        "activation.yml:4:16: percent_scale: must be one of 100, 1; got 10",
    ]


@pytest.mark.parametrize(("content", "needle"), [
    (b"", "the file is empty"),
    (b"- a\n- b\n", "the top level is a list"),
    (b"version: [1\n", "invalid YAML"),
    (b"a: &x [1]\nb: *x\n", "YAML anchors (&name) are not allowed"),
    (b"version: 1\nversion: 2\n", "duplicate key 'version'"),
    (b"version: 1\n\tname: x\n", "indent with spaces, not tabs"),
    (b"\xff\xfe\x00garbage", "binary content"),
    (b"name: caf\xe9\n", "not valid UTF-8"),
])
def test_unreadable_definitions_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "activation.yml"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        load_definition(path)
    assert exc.value.exit_code == Exit.ERROR
    assert needle in exc.value.message
    assert str(path) in exc.value.message


def test_missing_and_huge_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_definition(tmp_path / "nope.yml")
    big = tmp_path / "big.yml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(InputError, match="over the 1048576 byte limit"):
        load_definition(big)


def test_valid_definition_defaults(tmp_path: Path) -> None:
    loaded = load(tmp_path, HEAD + "  - name: core\n    milestones: [a, {value: \"It's {b}\"}]\n")
    d = loaded.definition
    assert (d.dialect, d.naming, d.percent_scale, d.accounts.cube, d.milestone_logs.cube) == (
        "duckdb", "camel", 100, "Accounts", "MilestoneCompletionLogs")
    assert d.milestone_logs.completed_at == "completion_date" and d.milestone_sets[0].require == "all"


def test_field_and_set_errors_reported_together(tmp_path: Path) -> None:
    text = HEAD.replace("version: 3", "version: 0") + (
        "  - name: core\n    milestones: [a, b]\n    require: 3\n"
        "  - name: core\n    milestones: [c]\n"
        "  - name: Bad\n    milestones: [x]\n")
    assert messages(tmp_path, text) == [
        "activation.yml:1:10: version: must be 1 or more, got 0",
        "activation.yml:10:14: milestone_sets[0].require: 3 is more than the 2 milestones in set 'core'",
        "activation.yml:11:11: milestone_sets[1].name: set name 'core' is already used by milestone_sets[0]; "
        "set names must be unique",
        "activation.yml:13:11: milestone_sets[2].name: 'Bad' is not allowed: use lowercase letters, digits and _, "
        "starting with a letter (e.g. core_activation)",
    ]
