"""The command line end to end on real files: exit codes, outputs, and the bundled example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from conftest import EXAMPLES

from activation_semantic import __version__
from activation_semantic.cli import app

TEAM = EXAMPLES / "team_collaboration"


def test_version(runner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"activation-semantic {__version__}"


def test_validate_ok_and_invalid(runner, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", str(TEAM / "activation.yml")])
    assert ok.exit_code == 0 and "1 definition(s) valid" in ok.output
    bad = tmp_path / "bad.yml"
    bad.write_text((TEAM / "activation.yml").read_text().replace("require: all", "require: 7"))
    result = runner.invoke(app, ["validate", str(bad), "--output", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and len(doc["findings"]) == 1
    finding = doc["findings"][0]
    assert finding["path"] == "milestone_sets[0].require"
    assert finding["message"] == "7 is more than the 3 milestones in set 'core'"
    assert finding["line"] and finding["col"]


def test_validate_unreadable_exits_2(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.yml")])
    assert result.exit_code == 2 and "no such file" in result.output and "Traceback" not in result.output


def test_generate_writes_yaml_and_js_byte_identical(runner, tmp_path: Path) -> None:
    for fmt, ext in (("yaml", "yml"), ("js", "js")):
        out = tmp_path / fmt
        first = runner.invoke(app, ["generate", str(TEAM / "activation.yml"), "--out", str(out), "--format", fmt])
        assert first.exit_code == 0, first.output
        files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))
        assert files == [f"cubes/accounts.{ext}", f"cubes/milestone_completion_logs.{ext}",
                         f"views/team_collaboration_activation.{ext}"]
        before = {p: p.read_bytes() for p in out.rglob("*.*")}
        again = runner.invoke(app, ["generate", str(TEAM / "activation.yml"), "--out", str(out), "--format", fmt])
        assert again.exit_code == 0 and "0 written" in again.output
        assert before == {p: p.read_bytes() for p in out.rglob("*.*")}


def test_verify_examples_pass_and_off_by_one_fails(runner, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(TEAM / "fixture.yml")])
    assert ok.exit_code == 0, ok.output
    assert "12 passed, 0 failed" in ok.output
    for name in ("accounts.csv", "milestone_completion_logs.csv"):
        shutil.copy(TEAM / name, tmp_path / name)
    fixture = yaml.safe_load((TEAM / "fixture.yml").read_text())
    fixture["queries"][0]["expect"][0]["Accounts.qualifiedAccounts"] = 361
    (tmp_path / "fixture.yml").write_text(yaml.safe_dump(fixture, sort_keys=False))
    bad = runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(tmp_path / "fixture.yml")])
    assert bad.exit_code == 1
    assert '"Accounts.qualifiedAccounts": 361' in bad.output and '"Accounts.qualifiedAccounts": 360' in bad.output
    doc = json.loads(runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(tmp_path / "fixture.yml"),
                                         "-o", "json"]).stdout)
    assert doc["summary"] == {"pass": 11, "fail": 1, "error": 0, "unsupported": 0}


def test_verify_committed_model_folder(runner) -> None:
    result = runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(TEAM / "fixture.yml"),
                                 "--model", str(TEAM / "model")])
    assert result.exit_code == 0 and "12 passed" in result.output


def test_headline_is_sixty_percent(runner, tmp_path: Path) -> None:
    for name in ("accounts.csv", "milestone_completion_logs.csv"):
        shutil.copy(TEAM / name, tmp_path / name)
    fixture = {"tables": {"accounts": "accounts.csv", "milestone_completion_logs": "milestone_completion_logs.csv"},
               "queries": [{"query": {"measures": ["Accounts.totalAccounts", "Accounts.qualifiedAccounts",
                                                   "Accounts.percentQualified"]},
                            "expect": [{"Accounts.totalAccounts": 600, "Accounts.qualifiedAccounts": 360,
                                        "Accounts.percentQualified": 60.0}]}]}
    (tmp_path / "headline.yml").write_text(yaml.safe_dump(fixture))
    result = runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(tmp_path / "headline.yml")])
    assert result.exit_code == 0, result.output


def test_init_and_demo(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ex")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ex" / "activation.yml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert (tmp_path / "ex" / "fixture.yml").is_file() and (tmp_path / "ex" / "README.activation.md").is_file()
    again = runner.invoke(app, ["init", str(tmp_path / "ex")])
    assert again.exit_code == 2 and "already exists" in again.output
    demo = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert demo.exit_code == 0, demo.output
    assert "12 passed, 0 failed" in demo.output
    assert (tmp_path / "demo" / "model" / "cubes" / "accounts.yml").is_file()


def test_schema_is_json_schema(runner) -> None:
    result = runner.invoke(app, ["schema"])
    doc = json.loads(result.stdout)
    assert doc["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert {"version", "name", "accounts", "milestone_logs", "milestone_sets"} <= set(doc["properties"])
    assert "$defs" not in json.dumps(doc)


def test_unknown_filter_operator_is_a_fixture_error(runner, tmp_path: Path) -> None:
    for name in ("accounts.csv", "milestone_completion_logs.csv"):
        shutil.copy(TEAM / name, tmp_path / name)
    fixture = {"tables": {"accounts": "accounts.csv", "milestone_completion_logs": "milestone_completion_logs.csv"},
               "queries": [{"query": {"measures": ["Accounts.totalAccounts"],
                                      "filters": [{"member": "Accounts.plan", "operator": "like", "values": ["p%"]}]},
                            "expect": []}]}
    (tmp_path / "f.yml").write_text(yaml.safe_dump(fixture))
    result = runner.invoke(app, ["verify", str(TEAM / "activation.yml"), str(tmp_path / "f.yml")])
    assert result.exit_code == 2
    assert "unknown filter operator 'like' on Accounts.plan" in result.output


def test_csv_time_offsets_are_read_as_utc(runner, tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("id,created_at\na1,2026-01-03T10:00:00+02:00\na2,2026-01-03 10:00:00\n")
    (tmp_path / "logs.csv").write_text("id,account_id,milestone_name,completion_date\n"
                                       "1,a1,create_workspace,2026-01-17T07:59:59Z\n"
                                       "2,a2,create_workspace,2026-01-17T09:59:59+00:00\n")
    definition = tmp_path / "activation.yml"
    definition.write_text("version: 1\nname: tz\naccounts: {sql_table: accounts}\n"
                          "milestone_logs: {sql_table: milestone_completion_logs}\n"
                          "milestone_sets: [{name: core, milestones: [create_workspace], within_days: 14}]\n")
    fixture = {"tables": {"accounts": "accounts.csv", "milestone_completion_logs": "logs.csv"},
               "queries": [{"query": {"measures": ["Accounts.qualifiedAccounts"],
                                      "dimensions": ["Accounts.id", "Accounts.createdAt"]},
                            "expect": [{"Accounts.id": "a1", "Accounts.createdAt": "2026-01-03T08:00:00",
                                        "Accounts.qualifiedAccounts": 1},
                                       {"Accounts.id": "a2", "Accounts.createdAt": "2026-01-03T10:00:00",
                                        "Accounts.qualifiedAccounts": 1}]}]}
    (tmp_path / "f.yml").write_text(yaml.safe_dump(fixture))
    result = runner.invoke(app, ["verify", str(definition), str(tmp_path / "f.yml")])
    assert result.exit_code == 0, result.output
