"""--output json|github for validate, generate --check, verify and diff; $GITHUB_STEP_SUMMARY; pre-commit hooks."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from activation_semantic.cli import app
from activation_semantic.report import gh_annotation

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

DEF = """\
version: 1
name: trial
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
milestone_sets:
  - name: core
    milestones: [create_workspace, invite_teammate]
    require: all
"""

BAD = """\
version: 1
name: trial
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
milestone_sets:
  - name: core
    milestones: [create_workspace, invite_teammate]
    colour: blue
"""

FIXTURE = """\
tables:
  accounts:
    - {id: a1, created_at: 2026-01-01 00:00:00}
    - {id: a2, created_at: 2026-01-01 00:00:00}
  milestone_completion_logs:
    - {id: l1, account_id: a1, milestone_name: create_workspace, completion_date: 2026-01-02 00:00:00}
    - {id: l2, account_id: a1, milestone_name: invite_teammate, completion_date: 2026-01-02 00:00:00}
    - {id: l3, account_id: a2, milestone_name: create_workspace, completion_date: 2026-01-05 00:00:00}
queries:
  - name: headline
    query:
      measures: [Accounts.totalAccounts, Accounts.qualifiedAccounts, Accounts.percentQualified]
    expect:
      - {Accounts.totalAccounts: 2, Accounts.qualifiedAccounts: 1, Accounts.percentQualified: 50.0}
"""

ANNOTATION = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<msg>.*)$")


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def annotations(stdout: str) -> list[dict[str, str]]:
    out = []
    for line in stdout.splitlines():
        m = ANNOTATION.match(line)
        if m:
            props = dict(p.split("=", 1) for p in m.group("props").split(",") if p)
            out.append({"level": m.group(1), **props, "message": m.group("msg")})
    return out


def test_gh_annotation_escapes_newlines_and_separators() -> None:
    line = gh_annotation("error", "first\nsecond 100%", "dir,x/a:b.yml", 7, 3, "T: x, y")
    assert "\n" not in line
    assert line == "::error file=dir%2Cx/a%3Ab.yml,line=7,col=3,title=T%3A x%2C y::first%0Asecond 100%25"
    assert gh_annotation("notice", "plain") == "::notice::plain"


# ---------------------------------------------------------------- validate


def test_validate_json(tmp_path: Path) -> None:
    good, bad = write(tmp_path / "good.yml", DEF), write(tmp_path / "bad.yml", BAD)
    code, out = run("validate", str(good), "--output", "json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "checked": [str(good)], "findings": [], "errors": [], "exit_code": 0}
    code, out = run("validate", str(good), str(bad), str(tmp_path / "none.yml"), "-o", "json")
    doc = json.loads(out)
    assert code == 2 and doc["exit_code"] == 2 and doc["ok"] is False
    (finding,) = doc["findings"]
    assert finding == {"file": str(bad), "line": 10, "col": 5, "path": "milestone_sets[0].colour",
                       "message": finding["message"]}
    assert "unknown key 'colour'" in finding["message"]
    assert len(doc["errors"]) == 1 and "none.yml" in doc["errors"][0]


def test_validate_github_points_at_the_wrong_line(tmp_path: Path, summary: Path) -> None:
    bad = write(tmp_path / "bad.yml", BAD)
    code, out = run("validate", str(bad), "--output", "github")
    assert code == 1
    (a,) = annotations(out)
    assert a["level"] == "error" and a["line"] == "10" and a["col"] == "5"
    assert a["file"] == str(bad).replace(":", "%3A").replace(",", "%2C")
    assert "unknown key 'colour'" in a["message"]
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### activation-semantic validate") and "bad.yml:10:5" in text


def test_validate_github_clean_writes_no_summary(tmp_path: Path, summary: Path) -> None:
    code, out = run("validate", str(write(tmp_path / "good.yml", DEF)), "-o", "github")
    assert code == 0 and annotations(out) == []
    assert not summary.exists()


# ---------------------------------------------------------------- generate --check


def test_generate_check_json_and_github(tmp_path: Path, summary: Path) -> None:
    definition = write(tmp_path / "activation.yml", DEF)
    model = tmp_path / "model"
    assert run("generate", str(definition), "--out", str(model))[0] == 0
    code, out = run("generate", str(definition), "--out", str(model), "--check", "-o", "json")
    assert code == 0 and json.loads(out) == {"ok": True, "out": str(model), "files": []}
    assert not summary.exists()

    write(definition, DEF.replace("require: all", "require: any"))
    (model / "views" / "trial_activation.yml").unlink()
    code, out = run("generate", str(definition), "--out", str(model), "--check", "-o", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and doc["out"] == str(model)
    assert all(set(f) == {"path", "problem", "diff"} for f in doc["files"])
    assert {f["path"]: f["problem"] for f in doc["files"]} == {
        "cubes/accounts.yml": "stale", "cubes/milestone_completion_logs.yml": "stale",
        "views/trial_activation.yml": "missing"}
    assert doc["files"][0]["diff"].startswith("--- a/cubes/accounts.yml")

    code, out = run("generate", str(definition), "--out", str(model), "--check", "-o", "github")
    assert code == 1
    found = annotations(out)
    assert [a["level"] for a in found] == ["error"] * 3
    assert {a["file"] for a in found} == {str(model / rel) for rel in (
        "cubes/accounts.yml", "cubes/milestone_completion_logs.yml", "views/trial_activation.yml")}
    assert all("\n" not in a["message"] and "activation-semantic generate" in a["message"] for a in found)
    text = summary.read_text(encoding="utf-8")
    assert "### Cube model drift" in text and "views/trial_activation.yml`: missing" in text


# ---------------------------------------------------------------- verify


def test_verify_json_and_github(tmp_path: Path, summary: Path) -> None:
    definition = write(tmp_path / "activation.yml", DEF)
    fixture = write(tmp_path / "fixture.yml", FIXTURE)
    code, out = run("verify", str(definition), str(fixture), "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert set(doc) == {"ok", "engine", "summary", "results"}
    assert doc["ok"] is True and doc["engine"] == "builtin"
    assert doc["summary"] == {"pass": 1, "fail": 0, "error": 0, "unsupported": 0}
    (res,) = doc["results"]
    assert set(res) == {"fixture", "line", "name", "status", "message", "missing", "unexpected"}
    assert res["status"] == "pass" and res["name"] == "headline"

    wrong = write(tmp_path / "wrong.yml", FIXTURE.replace("qualifiedAccounts: 1", "qualifiedAccounts: 2"))
    code, out = run("verify", str(definition), str(wrong), "-o", "github")
    assert code == 1
    (a,) = annotations(out)
    query_line = FIXTURE.splitlines().index("  - name: headline") + 1
    assert a["level"] == "error" and a["line"] == str(query_line)
    assert a["file"] == str(wrong).replace(":", "%3A") and "headline" in a["message"]
    text = summary.read_text(encoding="utf-8")
    assert "### activation-semantic verify" in text and "0 passed, 1 failed" in text


# ---------------------------------------------------------------- diff


def test_diff_github_annotations_and_summary(tmp_path: Path, summary: Path) -> None:
    old = write(tmp_path / "old.yml", DEF)
    new_text = DEF.replace("require: all", "require: any") + "  - name: extra\n    title: Extra\n    milestones: [login]\n"
    new = write(tmp_path / "new.yml", new_text)
    code, out = run("diff", str(old), str(new), "--output", "github")
    assert code == 1
    found = annotations(out)
    by_title = {a["title"]: a for a in found}
    req = by_title["REQUIRE_CHANGED (breaking)"]
    assert req["level"] == "error" and req["line"] == "10" and req["file"] == str(new).replace(":", "%3A")
    assert "%0Amembers: " in req["message"]  # the members on a second line, escaped
    assert by_title["SET_ADDED (non-breaking)"]["level"] == "notice"
    assert by_title["SET_ADDED (non-breaking)"]["line"] == "11"
    bump = by_title["version bump needed"]
    assert bump["level"] == "error" and bump["line"] == "1"
    assert all("\n" not in line for line in out.splitlines())
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### activation-semantic diff: trial")
    assert "| breaking | `REQUIRE_CHANGED` |" in text and "| non-breaking | `SET_ADDED` |" in text
    assert "❌" in text

    summary.unlink()
    write(new, new_text.replace("version: 1", "version: 2"))
    code, out = run("diff", str(old), str(new), "--output", "github")
    assert code == 0
    levels = {a["title"]: a["level"] for a in annotations(out)}
    assert levels["REQUIRE_CHANGED (breaking)"] == "warning" and "version bump needed" not in levels
    assert "✅" in summary.read_text(encoding="utf-8")


def test_diff_github_with_metrics_in_summary(tmp_path: Path, summary: Path) -> None:
    old = write(tmp_path / "old.yml", DEF)
    new = write(tmp_path / "new.yml", DEF.replace("require: all", "require: any").replace("version: 1", "version: 2"))
    fixture = write(tmp_path / "fixture.yml", FIXTURE)
    code, out = run("diff", str(old), str(new), "--fixture", str(fixture), "-o", "github")
    assert code == 0, out
    assert re.search(r"^  Accounts\.percentQualified +50\.0 → 100\.0$", out, re.M), out
    text = summary.read_text(encoding="utf-8")
    assert "| `Accounts.percentQualified` | 50.0 | 100.0 |" in text


def test_diff_error_outputs(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", DEF)
    bad = write(tmp_path / "bad.yml", BAD)
    code, out = run("diff", str(old), str(bad), "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["exit_code"] == 1
    assert doc["findings"][0]["line"] == 10
    code, out = run("diff", str(old), str(bad), "-o", "github")
    (a,) = annotations(out)
    assert code == 1 and a["line"] == "10" and a["title"] == "activation-semantic diff"


# ---------------------------------------------------------------- pre-commit hooks


def test_pre_commit_hooks_run_the_real_commands(tmp_path: Path) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"activation-semantic-validate", "activation-semantic-generate-check"}
    for h in hooks.values():
        assert h["language"] == "python" and h["entry"].startswith("activation-semantic ")
        assert re.compile(h["files"]).search("analytics/activation.yml")
    assert hooks["activation-semantic-generate-check"]["pass_filenames"] is False

    definition = write(tmp_path / "activation.yml", DEF)
    model = tmp_path / "model"
    run("generate", str(definition), "--out", str(model))
    validate = shlex.split(hooks["activation-semantic-validate"]["entry"])[1:]
    assert run(*validate, str(definition))[0] == 0  # pre-commit appends the staged file names
    check = shlex.split(hooks["activation-semantic-generate-check"]["entry"])[1:]
    user_args = [str(definition), "--out", str(model)]  # `args:` in the user's .pre-commit-config.yaml
    assert run(*check, *user_args)[0] == 0
    write(definition, DEF.replace("version: 1", "version: 2"))
    assert run(*check, *user_args)[0] == 1
