"""`diff`: every semantic change with a stable rule id and category, the version-bump rule, git refs, metrics."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from activation_semantic.cli import app
from activation_semantic.diff import RULES, Change, diff_definitions
from activation_semantic.loader import load_definition_text

runner = CliRunner()

BASE = """\
version: 3
name: trial
description: Trial activation
accounts:
  sql_table: accounts
  dimensions:
    - name: plan
      sql: plan
      title: Plan
    - name: region
      sql: region
milestone_logs:
  sql_table: milestone_completion_logs
  user_id: user_id
milestone_sets:
  - name: core
    title: Core activation
    milestones:
      - create_workspace
      - value: Invite a teammate
        key: invite_teammate
        title: Invite a teammate
      - share_file
    require: all
    within_days: 14
  - name: engaged
    milestones: [share_file, comment]
    require: any
  - name: power
    milestones: [api_call, export]
"""

BREAKING = {
    "MILESTONE_ADDED", "MILESTONE_REMOVED", "MILESTONE_VALUE_CHANGED", "MILESTONE_KEY_CHANGED", "REQUIRE_CHANGED",
    "WINDOW_CHANGED", "SOURCE_CHANGED", "PRIMARY_SET_CHANGED", "DIMENSION_CHANGED", "SET_REMOVED", "SET_RENAMED",
    "DIMENSION_REMOVED", "USER_ID_REMOVED", "MEMBER_NAMES_CHANGED", "PERCENT_SCALE_CHANGED", "DIALECT_CHANGED",
    "CUBE_RENAMED", "DEFINITION_RENAMED",
}
NON_BREAKING = {"SET_ADDED", "DIMENSION_ADDED", "USER_ID_ADDED", "PRE_AGGREGATIONS_CHANGED"}
METADATA = {"TITLE_CHANGED", "DESCRIPTION_CHANGED", "SETS_REORDERED", "MILESTONES_REORDERED", "DIMENSIONS_REORDERED",
            "REQUIRE_RESPELLED", "VERSION_CHANGED"}


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def edited(fn: Callable[[dict[str, Any]], None], base: str = BASE) -> str:
    data = copy.deepcopy(yaml.safe_load(base))
    fn(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def changes(old: str, new: str) -> list[Change]:
    return diff_definitions(load_definition_text(old, "old.yml"), load_definition_text(new, "new.yml"))


def sets(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["milestone_sets"]


def logs(d: dict[str, Any]) -> dict[str, Any]:
    return d["milestone_logs"]


def dims(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["accounts"]["dimensions"]


def _do(*steps: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def run(d: dict[str, Any]) -> None:
        for step in steps:
            step(d)
    return run


CASES: list[tuple[str, Callable[[dict[str, Any]], None], set[str]]] = [
    ("milestone added", lambda d: sets(d)[0]["milestones"].append("upload_avatar"), {"MILESTONE_ADDED"}),
    ("milestone removed", lambda d: sets(d)[0]["milestones"].pop(), {"MILESTONE_REMOVED"}),
    ("value changed, same key", lambda d: sets(d)[0]["milestones"][1].update(value="Invite teammates"),
     {"MILESTONE_VALUE_CHANGED"}),
    ("value changed in case only", lambda d: sets(d)[0]["milestones"].__setitem__(0, "Create_Workspace"),
     {"MILESTONE_VALUE_CHANGED"}),
    ("key changed", lambda d: sets(d)[0]["milestones"][1].update(key="invite"), {"MILESTONE_KEY_CHANGED"}),
    ("milestones reordered", lambda d: sets(d)[1]["milestones"].reverse(), {"MILESTONES_REORDERED"}),
    ("milestone moved to another set",
     _do(lambda d: sets(d)[2]["milestones"].remove("export"), lambda d: sets(d)[1]["milestones"].append("export")),
     {"MILESTONE_REMOVED", "MILESTONE_ADDED"}),
    ("require changed", lambda d: sets(d)[0].update(require=2), {"REQUIRE_CHANGED"}),
    ("require any -> 2", lambda d: sets(d)[1].update(require=2), {"REQUIRE_CHANGED"}),
    ("require respelled", _do(lambda d: sets(d)[0].update(require=3), lambda d: sets(d)[1].update(require=1)),
     {"REQUIRE_RESPELLED"}),
    ("window shortened", lambda d: sets(d)[0].update(within_days=7), {"WINDOW_CHANGED"}),
    ("window removed", lambda d: sets(d)[0].pop("within_days"), {"WINDOW_CHANGED"}),
    ("window added", lambda d: sets(d)[2].update(within_days=30), {"WINDOW_CHANGED"}),
    ("accounts table -> sql", lambda d: d["accounts"].update(sql_table=None, sql="SELECT * FROM accounts WHERE NOT t"),
     {"SOURCE_CHANGED"}),
    ("accounts primary key", lambda d: d["accounts"].update(primary_key="account_id"), {"SOURCE_CHANGED"}),
    ("accounts created_at", lambda d: d["accounts"].update(created_at="signup_at"), {"SOURCE_CHANGED"}),
    ("logs table", lambda d: logs(d).update(sql_table="events"), {"SOURCE_CHANGED"}),
    ("logs completed_at column", lambda d: logs(d).update(completed_at="done_at"), {"SOURCE_CHANGED"}),
    ("logs milestone column", lambda d: logs(d).update(milestone="event"), {"SOURCE_CHANGED"}),
    ("logs user_id column", lambda d: logs(d).update(user_id="actor_id"), {"SOURCE_CHANGED"}),
    ("user_id removed", lambda d: logs(d).pop("user_id"), {"USER_ID_REMOVED"}),
    ("primary set reordered", lambda d: sets(d).insert(0, sets(d).pop(1)), {"PRIMARY_SET_CHANGED"}),
    ("primary set removed", lambda d: sets(d).pop(0), {"PRIMARY_SET_CHANGED", "SET_REMOVED"}),
    ("new set added first", lambda d: sets(d).insert(0, {"name": "first", "milestones": ["login"]}),
     {"PRIMARY_SET_CHANGED", "SET_ADDED"}),
    ("primary renamed and changed", lambda d: sets(d)[0].update(name="activation", require=2),
     {"PRIMARY_SET_CHANGED", "SET_ADDED", "SET_REMOVED"}),
    ("primary set renamed", lambda d: sets(d)[0].update(name="activation"), {"SET_RENAMED"}),
    ("set renamed", lambda d: sets(d)[2].update(name="power_users"), {"SET_RENAMED"}),
    ("set added", lambda d: sets(d).append({"name": "extra", "milestones": ["login"]}), {"SET_ADDED"}),
    ("set removed", lambda d: sets(d).pop(), {"SET_REMOVED"}),
    ("sets reordered", lambda d: sets(d).insert(1, sets(d).pop(2)), {"SETS_REORDERED"}),
    ("set title", lambda d: sets(d)[0].update(title="Core"), {"TITLE_CHANGED"}),
    ("milestone title", lambda d: sets(d)[0]["milestones"][1].update(title="Invite someone"), {"TITLE_CHANGED"}),
    ("set description", lambda d: sets(d)[1].update(description="People who engage"), {"DESCRIPTION_CHANGED"}),
    ("definition description", lambda d: d.update(description="Other words"), {"DESCRIPTION_CHANGED"}),
    ("dimension added", lambda d: dims(d).append({"name": "country", "sql": "country"}), {"DIMENSION_ADDED"}),
    ("dimension removed", lambda d: dims(d).pop(), {"DIMENSION_REMOVED"}),
    ("dimension sql", lambda d: dims(d)[0].update(sql="lower(plan)"), {"DIMENSION_CHANGED"}),
    ("dimension type", lambda d: dims(d)[1].update(type="number"), {"DIMENSION_CHANGED"}),
    ("dimension title", lambda d: dims(d)[0].update(title="Pricing plan"), {"TITLE_CHANGED"}),
    ("dimensions reordered", lambda d: dims(d).reverse(), {"DIMENSIONS_REORDERED"}),
    ("naming", lambda d: d.update(naming="snake"), {"MEMBER_NAMES_CHANGED"}),
    ("percent scale", lambda d: d.update(percent_scale=1), {"PERCENT_SCALE_CHANGED"}),
    ("dialect", lambda d: d.update(dialect="postgres"), {"DIALECT_CHANGED"}),
    ("accounts cube", lambda d: d["accounts"].update(cube="Customers"), {"CUBE_RENAMED"}),
    ("logs cube", lambda d: logs(d).update(cube="Events"), {"CUBE_RENAMED"}),
    ("definition name", lambda d: d.update(name="trial_v2"), {"DEFINITION_RENAMED"}),
    ("pre-aggregations", lambda d: d.update(pre_aggregations=True), {"PRE_AGGREGATIONS_CHANGED"}),
    ("version only", lambda d: d.update(version=4), {"VERSION_CHANGED"}),
]

REVERSED: list[tuple[str, Callable[[dict[str, Any]], None], set[str]]] = [
    ("user_id added", lambda d: logs(d).pop("user_id"), {"USER_ID_ADDED"}),
]


@pytest.mark.parametrize(("fn", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(fn: Callable[[dict[str, Any]], None], expected: set[str]) -> None:
    found = changes(BASE, edited(fn))
    assert {c.rule for c in found} == expected, [(c.rule, c.message) for c in found]
    for c in found:
        assert c.category == RULES[c.rule][0]
        assert c.message and c.path


@pytest.mark.parametrize(("fn", "expected"), [c[1:] for c in REVERSED], ids=[c[0] for c in REVERSED])
def test_rule_reversed(fn: Callable[[dict[str, Any]], None], expected: set[str]) -> None:
    assert {c.rule for c in changes(edited(fn), BASE)} == expected


def test_every_rule_is_exercised_and_classified() -> None:
    exercised = set().union(*(c[2] for c in CASES + REVERSED))
    assert exercised == set(RULES)
    by_category = {cat: {r for r, (c, _) in RULES.items() if c == cat} for cat in ("breaking", "non-breaking",
                                                                                    "metadata")}
    assert by_category == {"breaking": BREAKING, "non-breaking": NON_BREAKING, "metadata": METADATA}


def test_same_meaning_is_no_change() -> None:
    def spelled_out(d: dict[str, Any]) -> None:
        d.update(dialect="duckdb", naming="camel", percent_scale=100, pre_aggregations=False)
        d["accounts"].update(cube="Accounts", primary_key="id", created_at="created_at")
        logs(d).update(cube="MilestoneCompletionLogs", account_id="account_id", milestone="milestone_name")
        sets(d)[2].update(require="all", milestones=[{"value": "api_call"}, "export"])
        dims(d)[1].update(type="string")

    assert changes(BASE, edited(spelled_out)) == []
    assert changes(BASE, BASE.replace("milestones: [share_file, comment]", "milestones:\n      - share_file\n"
                                      "      - comment")) == []


def test_members_affected() -> None:
    def members(fn: Callable[[dict[str, Any]], None], rule: str) -> set[str]:
        return {m for c in changes(BASE, edited(fn)) if c.rule == rule for m in c.members}

    primary = members(lambda d: sets(d)[0].update(require=2), "REQUIRE_CHANGED")
    assert {"Accounts.qualifiedAccounts", "Accounts.percentQualified", "Accounts.coreQualifiedAccounts",
            "Accounts.corePercentQualified", "Accounts.coreActivated"} <= primary
    assert "Accounts.totalAccounts" not in primary and "Accounts.coreShareFileAccounts" not in primary
    other = members(lambda d: sets(d)[1].update(require=2), "REQUIRE_CHANGED")
    assert "Accounts.engagedQualifiedAccounts" in other and "Accounts.qualifiedAccounts" not in other
    removed = members(lambda d: sets(d)[0]["milestones"].pop(), "MILESTONE_REMOVED")
    assert {"Accounts.coreShareFileAccounts", "Accounts.coreShareFilePercent", "Accounts.coreMilestonesCompleted",
            "Accounts.qualifiedAccounts"} <= removed
    window = members(lambda d: sets(d)[0].pop("within_days"), "WINDOW_CHANGED")
    assert {"Accounts.coreWindowClosed", "Accounts.coreCreateWorkspaceAccounts"} <= window
    scale = members(lambda d: d.update(percent_scale=1), "PERCENT_SCALE_CHANGED")
    assert "Accounts.percentQualified" in scale and "Accounts.powerApiCallPercent" in scale
    assert not any(m.endswith("Accounts") and "Percent" not in m for m in scale)
    snake = members(lambda d: d.update(naming="snake"), "MEMBER_NAMES_CHANGED")
    assert "Accounts.percent_qualified" in snake and "MilestoneCompletionLogs.total_milestones_completed" in snake
    assert members(lambda d: dims(d).pop(), "DIMENSION_REMOVED") == {"Accounts.region"}
    assert members(lambda d: sets(d)[0]["milestones"][1].update(key="invite"), "MILESTONE_KEY_CHANGED") == {
        "Accounts.coreInviteAccounts", "Accounts.coreInvitePercent"}
    assert members(lambda d: sets(d)[0].update(title="x"), "TITLE_CHANGED") == set()


def test_moved_milestone_says_where() -> None:
    found = changes(BASE, edited(_do(lambda d: sets(d)[2]["milestones"].remove("export"),
                                     lambda d: sets(d)[1]["milestones"].append("export"))))
    messages = {c.rule: c.message for c in found}
    assert "now in set 'engaged'" in messages["MILESTONE_REMOVED"]
    assert "was in set 'power'" in messages["MILESTONE_ADDED"]


def line_of(text: str, needle: str, start: int = 0) -> int:
    lines = text.splitlines()
    return next(i + 1 for i in range(start, len(lines)) if needle in lines[i])


def test_lines_point_into_the_new_file_and_the_old_one() -> None:
    new = BASE.replace("    require: all\n", "    require: 2\n").replace("      - share_file\n    require", "    require")
    new = new.replace("  - name: power\n    milestones: [api_call, export]\n", "")
    by_rule = {c.rule: c for c in changes(BASE, new)}
    req = by_rule["REQUIRE_CHANGED"]
    assert req.line == line_of(new, "require: 2") and req.old_line == line_of(BASE, "require: all")
    assert req.path == "milestone_sets[0].require"
    gone = by_rule["MILESTONE_REMOVED"]
    assert gone.old_line == line_of(BASE, "      - share_file")
    assert gone.line == line_of(new, "    milestones:")  # where it used to be in the new file
    assert gone.path == "milestone_sets[0].milestones[2]"
    removed_set = by_rule["SET_REMOVED"]
    assert removed_set.old_line == line_of(BASE, "- name: power")
    assert removed_set.line == line_of(new, "milestone_sets:")


# ---------------------------------------------------------------- CLI: files


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str, cwd: Path | None = None) -> Any:
    if cwd is None:
        return runner.invoke(app, ["diff", *args])
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, ["diff", *args])
    finally:
        os.chdir(old)


def test_cli_breaking_without_bump_exits_1(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", BASE.replace("    require: all\n", "    require: 2\n"))
    result = cli(str(old), str(new))
    assert result.exit_code == 1, result.output
    assert "breaking" in result.stdout and "REQUIRE_CHANGED" in result.stdout
    assert f"{new}:{line_of(new.read_text(), 'require: 2')}" in result.stdout
    assert "version: 4" in result.stdout  # says what to do
    bumped = write(tmp_path / "bumped.yml", new.read_text().replace("version: 3", "version: 4"))
    result = cli(str(old), str(bumped))
    assert result.exit_code == 0, result.output
    assert "REQUIRE_CHANGED" in result.stdout and "VERSION_CHANGED" in result.stdout
    lowered = write(tmp_path / "lowered.yml", new.read_text().replace("version: 3", "version: 2"))
    assert cli(str(old), str(lowered)).exit_code == 1


def test_cli_non_breaking_and_metadata_need_no_bump(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", BASE + "  - name: extra\n    title: Extra\n    milestones: [login]\n")
    new = write(tmp_path / "new.yml", new.read_text().replace("title: Core activation", "title: Core"))
    result = cli(str(old), str(new))
    assert result.exit_code == 0, result.output
    assert "SET_ADDED" in result.stdout and "TITLE_CHANGED" in result.stdout
    same = write(tmp_path / "same.yml", "# a comment\n" + BASE)
    result = cli(str(old), str(same))
    assert result.exit_code == 0 and "no semantic changes" in result.stdout


def test_cli_json_document(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", BASE.replace("within_days: 14", "within_days: 7"))
    result = cli(str(old), str(new), "--output", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"ok", "exit_code", "old", "new", "version_bumped", "summary", "changes", "fixture",
                        "metrics", "verdict"}
    assert doc["ok"] is False and doc["exit_code"] == 1 and doc["version_bumped"] is False
    assert doc["old"]["version"] == 3 and doc["new"]["file"] == str(new) and len(doc["new"]["sha256"]) == 64
    assert doc["summary"] == {"breaking": 1, "non-breaking": 0, "metadata": 0}
    (change,) = doc["changes"]
    assert set(change) == {"rule", "category", "path", "message", "file", "line", "old_file", "old_line", "members"}
    assert change["rule"] == "WINDOW_CHANGED" and change["category"] == "breaking"
    assert change["line"] == line_of(new.read_text(), "within_days: 7")
    assert "Accounts.coreWindowClosed" in change["members"]
    assert doc["fixture"] is None and doc["metrics"] is None


def test_cli_usage_and_input_errors(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    assert cli(str(old)).exit_code == 2  # neither NEW nor --against
    assert cli(str(old), str(old), "--against", "HEAD").exit_code == 2  # both
    assert cli(str(old), str(tmp_path / "missing.yml")).exit_code == 2
    assert cli(str(old), str(old), "--output", "xml").exit_code == 2
    broken_old = write(tmp_path / "broken_old.yml", BASE.replace("require: all", "require: 9"))
    result = cli(str(broken_old), str(old))
    assert result.exit_code == 2 and "old side" in result.output
    result = cli(str(old), str(broken_old))
    assert result.exit_code == 1 and "require" in result.output  # the new side is what the user fixes


# ---------------------------------------------------------------- CLI: git


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          capture_output=True, text=True, check=True, env=env)
    return done.stdout


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root / "analytics" / "activation.yml", BASE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v3")
    return root


@needs_git
def test_against_git_ref(repo: Path) -> None:
    definition = repo / "analytics" / "activation.yml"
    head = git(repo, "rev-parse", "HEAD").strip()
    write(definition, BASE.replace("require: all", "require: 2"))
    result = cli(str(definition), "--against", "HEAD")
    assert result.exit_code == 1, result.output
    assert "analytics/activation.yml@HEAD" in result.stdout and "REQUIRE_CHANGED" in result.stdout
    assert git(repo, "rev-parse", "HEAD").strip() == head  # no checkout, no commit
    assert "require: 2" in definition.read_text()  # the work tree is untouched
    assert git(repo, "status", "--porcelain") == " M analytics/activation.yml\n"

    write(definition, BASE.replace("require: all", "require: 2").replace("version: 3", "version: 4"))
    result = cli("activation.yml", "--against", "main", cwd=repo / "analytics")  # relative path, branch name
    assert result.exit_code == 0, result.output
    git(repo, "commit", "-q", "-am", "v4")
    result = cli(str(definition), "--against", "HEAD~1", "--output", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["old"]["file"] == "analytics/activation.yml@HEAD~1" and doc["old"]["version"] == 3
    assert {c["rule"] for c in doc["changes"]} == {"REQUIRE_CHANGED", "VERSION_CHANGED"}
    assert cli(str(definition), "--against", "HEAD").stdout.count("no semantic changes") == 1


@needs_git
def test_against_errors_exit_2(repo: Path, tmp_path: Path) -> None:
    definition = repo / "analytics" / "activation.yml"
    result = cli(str(definition), "--against", "no-such-branch")
    assert result.exit_code == 2 and "unknown git ref 'no-such-branch'" in result.output
    result = cli(str(definition), "--against", "--help")
    assert result.exit_code == 2
    fresh = write(repo / "analytics" / "new_activation.yml", BASE)
    result = cli(str(fresh), "--against", "HEAD")
    assert result.exit_code == 2 and "does not exist at HEAD" in result.output
    outside = write(tmp_path / "elsewhere" / "activation.yml", BASE)
    result = cli(str(outside), "--against", "HEAD")
    assert result.exit_code == 2 and "not inside a git repository" in result.output
    write(definition, "version: [oops\n")
    git(repo, "commit", "-q", "-am", "broken")
    write(definition, BASE)
    result = cli(str(definition), "--against", "HEAD")
    assert result.exit_code == 2 and "analytics/activation.yml@HEAD" in result.output


# ---------------------------------------------------------------- --fixture


SMALL = """\
version: 1
name: small
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
milestone_sets:
  - name: core
    milestones: [create_workspace, invite_teammate, share_file]
    require: all
"""

FIXTURE = """\
tables:
  accounts:
    - {id: a1, created_at: 2026-01-01 00:00:00}
    - {id: a2, created_at: 2026-01-01 00:00:00}
    - {id: a3, created_at: 2026-01-01 00:00:00}
    - {id: a4, created_at: 2026-01-01 00:00:00}
  milestone_completion_logs:
    - {id: l1, account_id: a1, milestone_name: create_workspace, completion_date: 2026-01-02 00:00:00}
    - {id: l2, account_id: a1, milestone_name: invite_teammate, completion_date: 2026-01-02 00:00:00}
    - {id: l3, account_id: a1, milestone_name: share_file, completion_date: 2026-01-02 00:00:00}
    - {id: l4, account_id: a2, milestone_name: create_workspace, completion_date: 2026-01-03 00:00:00}
    - {id: l5, account_id: a2, milestone_name: share_file, completion_date: 2026-01-03 00:00:00}
    - {id: l6, account_id: a3, milestone_name: share_file, completion_date: 2026-01-04 00:00:00}
queries:
  - query: {measures: [Accounts.totalAccounts]}
    expect: [{Accounts.totalAccounts: 4}]
"""


def test_fixture_metrics_side_by_side(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", SMALL)
    new = write(tmp_path / "new.yml", SMALL.replace("require: all", "require: 2").replace("version: 1", "version: 2")
                + "  - name: extra\n    milestones: [share_file]\n")
    fixture = write(tmp_path / "fixture.yml", FIXTURE)
    result = cli(str(old), str(new), "--fixture", str(fixture))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("Accounts.percentQualified" in x and "25.0 → 50.0" in x for x in lines), result.stdout
    assert any("Accounts.qualifiedAccounts" in x and "1 → 2" in x for x in lines)
    assert any("Accounts.totalAccounts" in x and "4 → 4" in x and "unchanged" in x for x in lines)
    assert any("Accounts.extraPercentQualified" in x and "— → 75.0" in x for x in lines)
    doc = json.loads(cli(str(old), str(new), "--fixture", str(fixture), "-o", "json").stdout)
    assert doc["fixture"] == str(fixture)
    rows = {r["metric"]: r for r in doc["metrics"]}
    assert rows["Accounts.percentQualified"] == {"metric": "Accounts.percentQualified", "old": 25.0, "new": 50.0,
                                                 "old_member": "Accounts.percentQualified",
                                                 "new_member": "Accounts.percentQualified", "changed": True}
    assert rows["Accounts.extraQualifiedAccounts"]["old"] is None


def test_fixture_metrics_follow_renamed_members(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", SMALL)
    new = write(tmp_path / "new.yml", SMALL.replace("version: 1", "version: 2\nnaming: snake\npercent_scale: 1"))
    fixture = write(tmp_path / "fixture.yml", FIXTURE)
    doc = json.loads(cli(str(old), str(new), "--fixture", str(fixture), "-o", "json").stdout)
    rows = {r["metric"]: r for r in doc["metrics"]}
    pct = rows["Accounts.percent_qualified"]
    assert (pct["old_member"], pct["old"], pct["new"]) == ("Accounts.percentQualified", 25.0, 0.25)


def test_fixture_problems_exit_2(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", SMALL)
    new = write(tmp_path / "new.yml", SMALL.replace("sql_table: accounts", "sql_table: customers"))
    fixture = write(tmp_path / "fixture.yml", FIXTURE)
    result = cli(str(old), str(new), "--fixture", str(fixture))
    assert result.exit_code == 2 and "customers" in result.output
    assert cli(str(old), str(old), "--fixture", str(tmp_path / "nope.yml")).exit_code == 2
