"""Property: arbitrary unicode milestone values, titles and descriptions never become code.

Hypothesis draws free text (any code point but NUL and lone surrogates, weighted towards the characters
that mean something to SQL, YAML, Jinja, Python f-strings and JS templates). For every draw the model is
generated in both formats; Cube's compiler compiles both in one Node run (when Node and the Cube packages
are installed; always in CI) and the SQL it renders gives the oracle's numbers in DuckDB, titles and
descriptions come back unchanged from Cube's metadata; the builtin engine gives the same numbers from
the generated files.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import oracle
import pytest
from conftest import cube_available
from helpers import dump
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activation_semantic import cube_engine
from activation_semantic.compare import compare_rows
from activation_semantic.fixtures import load_fixture, load_tables
from activation_semantic.harness import verify
from activation_semantic.loader import load_definition
from activation_semantic.writer import write_model

SPECIAL = [*"{}$`\\'\"%#;-*&|>!?:,[]\r\n\t ", "\u2028", "\u2029", "\x85", "\ufeff", "\u202e", "😀", "{{", "{%", "${"]
PIECE = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), st.sampled_from(SPECIAL))
TEXT = st.lists(PIECE, min_size=1, max_size=16).map("".join)
T0 = datetime(2026, 3, 1, 8, 0)
NOW = datetime(2030, 1, 1)
FORMATS = {"yaml": ("AccY", "LogsY"), "js": ("AccJ", "LogsJ")}


@st.composite
def cases(draw: Any) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    values = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    set_title = draw(TEXT)
    titles = [draw(st.one_of(st.none(), TEXT)) for _ in values]
    defn = {
        "version": 1,
        "name": "prop",
        "description": draw(TEXT),
        "accounts": {"sql_table": "accounts"},
        "milestone_logs": {"sql_table": "logs"},
        "milestone_sets": [{
            "name": "core", "title": set_title, "require": draw(st.integers(1, len(values))),
            "milestones": [{"value": v, "key": f"m{j}", **({"title": t} if t else {})}
                           for j, (v, t) in enumerate(zip(values, titles, strict=True))],
        }],
    }
    accounts, logs = [], []
    for k in range(4):
        accounts.append({"id": f"a{k}", "created_at": T0 + timedelta(days=k)})
    for j, v in enumerate(values):
        for k in range(4):
            if draw(st.booleans()):
                logs.append({"id": f"l{len(logs)}", "account_id": f"a{k}", "milestone_name": v,
                             "completion_date": T0 + timedelta(hours=j + k)})
        for miss in {v.upper(), v.lower(), v.strip(), v + " ", v[:-1], v.replace("\\", "\\\\"), v.replace("'", "''"),
                     v.replace("{", "\\{"), v.replace("\r", "\n")} - set(values):
            logs.append({"id": f"l{len(logs)}", "account_id": "a3", "milestone_name": miss, "completion_date": T0})
    return defn, {"accounts": accounts, "logs": logs}


def queries(defn: dict[str, Any], cube: str) -> list[dict[str, Any]]:
    per = [f"{cube}.core{m['key'].capitalize()}Accounts" for m in defn["milestone_sets"][0]["milestones"]]
    return [
        {"measures": [f"{cube}.totalAccounts", f"{cube}.qualifiedAccounts", f"{cube}.percentQualified", *per]},
        {"measures": [f"{cube}.totalAccounts"], "dimensions": [f"{cube}.coreMilestonesCompleted"]},
    ]




def check(defn: dict[str, Any], data: dict[str, list[dict[str, Any]]], tmp: Path, with_cube: bool) -> None:
    expected: dict[str, list[dict[str, Any]]] = {}
    loaded = {}
    for fmt, (acc, logs) in FORMATS.items():
        d = {**defn, "name": f"prop_{fmt}", "accounts": {**defn["accounts"], "cube": acc},
             "milestone_logs": {**defn["milestone_logs"], "cube": logs}}
        (tmp / f"{fmt}.yml").write_text(dump(d), encoding="utf-8")
        qs = [{"query": q, "expect": oracle.answer(d, data, q, now=NOW)} for q in queries(d, acc)]
        (tmp / f"fixture_{fmt}.yml").write_text(dump({"tables": data, "queries": qs}), encoding="utf-8")
        loaded[fmt] = load_definition(tmp / f"{fmt}.yml")
        got = loaded[fmt].definition
        assert (got.description, got.milestone_sets[0].title) == (defn["description"], defn["milestone_sets"][0]["title"])
        values = [m["value"] for m in d["milestone_sets"][0]["milestones"]]
        assert [m.value for m in got.milestone_sets[0].milestones] == values
        write_model(loaded[fmt], tmp / "model" / fmt, fmt)  # type: ignore[arg-type]
        for path in (tmp / "model" / fmt).rglob("*.yml"):
            text = path.read_text(encoding="utf-8")
            assert not any(marker in text for marker in ("{{", "{%", "{#", "%}", "}}")), path
        report = verify(loaded[fmt], [tmp / f"fixture_{fmt}.yml"], fmt=fmt)
        bad = [(r.name, r.status, r.message, r.missing, r.unexpected) for r in report.results if r.status != "pass"]
        assert not bad, (fmt, bad)
        expected[fmt] = qs
    if not with_cube:
        return

    all_queries = [q["query"] for fmt in FORMATS for q in expected[fmt]]
    doc = cube_engine.render(tmp / "model", all_queries, meta=True)  # one Node run for both formats
    assert doc["ok"], doc.get("errors")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    load_tables(con, load_fixture(tmp / "fixture_yaml.yml"), loaded["yaml"].definition)
    results = iter(doc["results"])
    meta = {c["name"]: c for c in doc["meta"]["cubes"]}
    for fmt, (acc, _) in FORMATS.items():
        for q in expected[fmt]:
            res = next(results)
            assert res["error"] is None, (fmt, res["error"])
            cur = con.execute(res["sql"], res["params"])
            names = [res["aliasNameToMember"].get(c[0], c[0]) for c in cur.description]
            diff = compare_rows(q["expect"], [dict(zip(names, r, strict=True)) for r in cur.fetchall()], ordered=False)
            assert diff.ok, (fmt, q["query"], diff.missing, diff.unexpected)
        cube = meta[acc]
        assert cube["description"] == defn["description"], fmt
        titles = {m["name"]: m.get("title") for m in cube["measures"]}
        set_title = defn["milestone_sets"][0]["title"]
        assert titles["coreQualifiedAccounts"] == f"{set_title}: Qualified Accounts", fmt
        for m in defn["milestone_sets"][0]["milestones"]:
            label = m.get("title") or m["key"].capitalize()
            assert titles[f"core{m['key'].capitalize()}Accounts"] == f"{set_title}: {label} (accounts)", fmt


def _cube_wanted() -> bool:
    ok, why = cube_available()
    if not ok and os.environ.get("CI"):
        pytest.fail(f"CI must run the Cube engine tests: {why}")
    return ok


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_arbitrary_text_stays_literal(case: tuple[dict[str, Any], dict[str, Any]],
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    defn, data = case
    check(defn, data, tmp_path_factory.mktemp("prop"), _cube_wanted())
