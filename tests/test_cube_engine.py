"""`verify --engine cube` end to end: Cube's own compiler (Node) renders the SQL, DuckDB runs it.

CLI level: every example passes in both formats; an expectation off by one fails with the
differing rows; missing Node packages say exactly what to run (exit 2); a hand-broken model
folder names the file, cube and member Cube blames (exit 1). Library level: the YAML and JS
models of every example compile to the same Cube metadata (cubes, members, types, compiled SQL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_NAMES, EXAMPLES

from activation_semantic import cube_engine
from activation_semantic.cli import app
from activation_semantic.cube_model import CubeModel
from activation_semantic.cube_query import for_cube_compiler
from activation_semantic.loader import load_definition
from activation_semantic.model_read import read_model
from activation_semantic.writer import write_model

ROOT = EXAMPLES.parent
TEAM = EXAMPLES / "team_collaboration"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(, \d+ unsupported)? \(engine: (\w+)\)$", re.MULTILINE)


def _queries(example: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((example / "fixture.yml").read_text(encoding="utf-8"))["queries"]


def _summary(output: str) -> tuple[int, int, bool, str]:
    m = SUMMARY.search(output)
    assert m, output
    return int(m.group(1)), int(m.group(2)), bool(m.group(3)), m.group(4)


def _verify(runner: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["verify", *args], env=env)


# ------------------------------------------------------------------- every example passes

FORMATS = ("yaml", "js")


@pytest.fixture(scope="module")
def example_runs(cube: None) -> dict[tuple[str, str], subprocess.CompletedProcess[str]]:
    """`activation-semantic verify --engine cube` on every example in both formats, as real processes
    (one Node process each, run side by side to keep the suite fast)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    # Cube's DuckDB SQL buckets times with timezone('UTC', x::timestamptz): far from UTC (+13:45), month
    # cohorts shift unless the harness pins the session to UTC
    env["TZ"] = "Pacific/Chatham"

    def run(name: str, fmt: str) -> subprocess.CompletedProcess[str]:
        folder = EXAMPLES / name
        cmd = [sys.executable, "-m", "activation_semantic", "verify", str(folder / "activation.yml"),
               str(folder / "fixture.yml"), "--engine", "cube", "--format", fmt]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)

    cases = [(name, fmt) for name in EXAMPLE_NAMES for fmt in FORMATS]
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        futures = {case: pool.submit(run, *case) for case in cases}
        return {case: f.result() for case, f in futures.items()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_verify_cube_passes_every_example(example_runs: dict[tuple[str, str], Any], name: str, fmt: str) -> None:
    proc = example_runs[(name, fmt)]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed, failed, unsupported, engine = _summary(proc.stdout)
    assert (passed, failed, unsupported, engine) == (len(_queries(EXAMPLES / name)), 0, False, "cube"), proc.stdout
    assert all(line.startswith("PASS") for line in proc.stdout.splitlines()[:-1]), proc.stdout
    assert proc.stderr == ""


# ------------------------------------------------------------------- an off-by-one expectation


def _off_by_one_fixture(tmp_path: Path) -> Path:
    """The team example's fixture with its headline expecting 361 qualified accounts instead of 360."""
    doc = yaml.safe_load((TEAM / "fixture.yml").read_text(encoding="utf-8"))
    doc["tables"] = {t: str((TEAM / src).resolve()) for t, src in doc["tables"].items()}
    headline = doc["queries"][0]["expect"][0]
    assert headline["Accounts.qualifiedAccounts"] == 360
    headline["Accounts.qualifiedAccounts"] = 361
    path = tmp_path / "off_by_one.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_verify_cube_fails_an_expectation_off_by_one(cube: None, runner: Any, tmp_path: Path) -> None:
    """Against the committed model folder (`--model`, what CI runs): every other query passes, this one fails."""
    fixture = _off_by_one_fixture(tmp_path)
    result = _verify(runner, str(TEAM / "activation.yml"), str(fixture), "--engine", "cube", "--model", str(TEAM / "model"))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert _summary(out) == (len(_queries(TEAM)) - 1, 1, False, "cube"), out
    lines = out.splitlines()
    fail = next(i for i, line in enumerate(lines) if line.startswith("FAIL"))
    assert f"{fixture}:" in lines[fail] and lines[fail].endswith("queries[0]"), lines[fail]
    want = json.loads(lines[fail + 1].removeprefix("    expected, not found: "))
    got = json.loads(lines[fail + 2].removeprefix("    found, not expected: "))
    assert want == {"Accounts.totalAccounts": 600, "Accounts.qualifiedAccounts": 361, "Accounts.percentQualified": 60.0}
    assert got == {"Accounts.totalAccounts": 600, "Accounts.qualifiedAccounts": 360, "Accounts.percentQualified": 60.0}
    assert sum(line.startswith("PASS") for line in lines) == len(_queries(TEAM)) - 1
    # the builtin engine agrees on what is wrong
    builtin = _verify(runner, str(TEAM / "activation.yml"), str(fixture))
    assert builtin.exit_code == 1 and _summary(builtin.stdout)[:2] == (len(_queries(TEAM)) - 1, 1)


# ------------------------------------------------------------------- no Node packages, no node


def test_verify_cube_without_packages_says_what_to_run(runner: Any, tmp_path: Path) -> None:
    empty = tmp_path / "no-cube-here"
    empty.mkdir()
    args = (str(TEAM / "activation.yml"), str(TEAM / "fixture.yml"), "--engine", "cube")
    result = _verify(runner, *args, env={cube_engine.ENV_DIR: str(empty)})
    assert result.exit_code == 2, result.output
    assert "run 'activation-semantic cube-setup'" in result.stderr
    if shutil.which("node"):
        assert result.stderr.strip() == f"error: {cube_engine.NOT_INSTALLED}"
        assert cube_engine.NOT_INSTALLED == (
            "Cube engine not installed: run 'activation-semantic cube-setup' (needs node and npm)")
    assert result.stdout == "" and "Traceback" not in result.output
    as_json = _verify(runner, *args, "--output", "json", env={cube_engine.ENV_DIR: str(empty)})
    assert as_json.exit_code == 2
    doc = json.loads(as_json.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2 and "run 'activation-semantic cube-setup'" in doc["error"]
    assert not any(empty.iterdir()), "verify must not install anything"


def test_verify_cube_without_node_says_what_to_install(runner: Any, tmp_path: Path) -> None:
    result = _verify(runner, str(TEAM / "activation.yml"), str(TEAM / "fixture.yml"), "--engine", "cube",
                     env={"PATH": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: {cube_engine.NODE_MISSING}"
    assert "run 'activation-semantic cube-setup'" in result.stderr and "Traceback" not in result.output


# ------------------------------------------------------------------- a hand-broken model folder


def _generated(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    out = tmp_path / f"model-{fmt}"
    write_model(load_definition(TEAM / "activation.yml"), out, fmt)  # type: ignore[arg-type]
    return out, out / "cubes" / f"accounts.{'yml' if fmt == 'yaml' else 'js'}"


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(("fmt", "output"), [("yaml", "text"), ("js", "github")])
def test_verify_cube_names_file_cube_and_member_of_a_compile_error(cube: None, runner: Any, tmp_path: Path,
                                                                   fmt: str, output: str) -> None:
    model, accounts = _generated(tmp_path, fmt)
    ref = "{qualifiedAccounts}" if fmt == "yaml" else "${qualifiedAccounts}"
    _break(accounts, f"100.0 * {ref} / NULLIF", f"100.0 * {ref.replace('qualifiedAccounts', 'noSuchMember')} / NULLIF")
    result = _verify(runner, str(TEAM / "activation.yml"), str(TEAM / "fixture.yml"), "--engine", "cube",
                     "--model", str(model), "--output", output)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Cube's compiler rejects the model" in result.stderr
    assert (f"{accounts}: cube Accounts, member Accounts.percentQualified: noSuchMember is not defined"
            in result.stderr), result.stderr
    if output == "text":
        assert result.stdout == ""
    else:  # one workflow annotation on the file Cube blames
        [annotation] = result.stdout.strip().splitlines()
        assert annotation.startswith(f"::error file={accounts},title=activation-semantic verify::"), annotation
        assert "cube Accounts, member Accounts.percentQualified" in annotation and "noSuchMember" in annotation


def test_verify_cube_reports_a_model_error_cube_meets_only_when_planning(cube: None, runner: Any,
                                                                         tmp_path: Path) -> None:
    """A bad reference in a measure filter compiles, and breaks every query using that measure: exit 1, not 2."""
    model, accounts = _generated(tmp_path, "yaml")
    _break(accounts, '- sql: "{CUBE}._as_s0_activated_at IS NOT NULL"', '- sql: "{noSuchFilterRef} IS NOT NULL"')
    result = _verify(runner, str(TEAM / "activation.yml"), str(TEAM / "fixture.yml"), "--engine", "cube",
                     "--model", str(model), "--output", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    broken = [r for r in doc["results"] if r["status"] == "error"]
    uses_it = [q for q in _queries(TEAM) if "Accounts.qualifiedAccounts" in q["query"].get("measures", [])]
    assert len(broken) == len(uses_it) > 0
    assert all("noSuchFilterRef is not defined" in r["message"] and str(model) in r["message"] for r in broken)
    assert doc["summary"]["pass"] == len(_queries(TEAM)) - len(broken)


# ------------------------------------------------------------------- YAML == JS after compilation


def _strip_file_names(meta: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "fileName"} for c in meta["cubes"]]


def _members(model: CubeModel, name: str) -> dict[str, dict[str, str | None]]:
    cube = model.cube(name)
    return {"measures": {m.name: m.type for m in cube.measures},
            "dimensions": {d.name: d.type for d in cube.dimensions},
            "segments": {s.name: None for s in cube.segments}}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_yaml_and_js_models_compile_to_the_same_cube_metadata(cube: None, name: str, tmp_path: Path) -> None:
    folder = EXAMPLES / name
    loaded = load_definition(folder / "activation.yml")
    queries = [for_cube_compiler(q["query"]) for q in _queries(folder)]
    dirs = {}
    for fmt in ("yaml", "js"):
        dirs[fmt] = tmp_path / fmt
        write_model(loaded, dirs[fmt], fmt)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {fmt: pool.submit(cube_engine.render, d, queries, "duckdb", True) for fmt, d in dirs.items()}
        docs = {fmt: run.result() for fmt, run in runs.items()}
    for fmt, doc in docs.items():
        assert doc["ok"] is True, (fmt, doc.get("errors"))
        assert doc.get("meta") and "metaError" not in doc, (fmt, doc.get("metaError"))
        assert all(f.endswith(".yml" if fmt == "yaml" else ".js") for f in doc["files"]), doc["files"]
    yaml_meta, js_meta = (_strip_file_names(docs[f]["meta"]) for f in ("yaml", "js"))
    assert yaml_meta == js_meta
    assert [(r["sql"], r["params"]) for r in docs["yaml"]["results"]] == [(r["sql"], r["params"])
                                                                          for r in docs["js"]["results"]]
    assert all(r["error"] is None for r in docs["yaml"]["results"])

    # ... and the metadata is the model the definition describes, every member compiled to SQL
    python_model = read_model(dirs["yaml"])
    by_name = {c["name"]: c for c in yaml_meta}
    views = sorted(n for n, c in by_name.items() if c["isView"])
    assert sorted(n for n, c in by_name.items() if not c["isView"]) == ["Accounts", "MilestoneCompletionLogs"]
    assert views == [v.name for v in python_model.views] and len(views) == 1
    for cube_name in ("Accounts", "MilestoneCompletionLogs"):
        meta = by_name[cube_name]
        assert meta["sql"] and "sqlError" not in meta, cube_name
        got = {"measures": {m["name"]: m["type"] for m in meta["measures"]},
               "dimensions": {d["name"]: d["type"] for d in meta["dimensions"]},
               "segments": {s["name"]: None for s in meta["segments"]}}
        assert got == _members(python_model, cube_name)
        for kind in ("measures", "dimensions", "segments"):
            for member in meta[kind]:
                assert member.get("sql") and "sqlError" not in member, (cube_name, member)
    accounts = by_name["Accounts"]
    assert accounts["joins"] == [{"name": "MilestoneCompletionLogs", "relationship": "hasMany",
                                  "sql": '"accounts".id = "milestone_completion_logs".account_id'}]
    measures = {m["name"]: m for m in accounts["measures"]}
    assert measures["percentQualified"]["format"] == "percent"
    assert measures["percentQualified"]["title"] == "Percent of Accounts Completing Key Activation Milestones"
    # the seed's bug (countDistinct of every account) is gone: only qualifying accounts are counted
    assert measures["qualifiedAccounts"]["sql"].startswith('count(CASE WHEN ("accounts".')
    assert measures["totalAccounts"]["sql"] == 'count("accounts".id)'
    dims = {d["name"]: d for d in accounts["dimensions"]}
    assert dims["id"].get("primaryKey") is True and dims["createdAt"]["type"] == "time"
