"""Builtin engine over the generated files == the independent oracle, on random definitions and data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import oracle
import pytest
from helpers import dump
from hypothesis import HealthCheck, given, settings
from randomized import definitions, tables

from activation_semantic.harness import verify
from activation_semantic.loader import load_definition


def query_matrix(defn: dict[str, Any]) -> list[dict[str, Any]]:
    nd = oracle.normalize(defn)
    name = lambda *p: "Accounts." + oracle.member_name(nd["naming"], *p)  # noqa: E731
    total, qualified, percent = name("total_accounts"), name("qualified_accounts"), name("percent_qualified")
    queries: list[dict[str, Any]] = [
        {"measures": [total, qualified, percent]},
        {"measures": [percent, qualified], "timeDimensions": [{"dimension": name("created_at"), "granularity": "month"}]},
        {"measures": [total], "segments": ["Accounts." + oracle.member_name(nd["naming"], "qualified")]},
    ]
    if any(d["name"] == "plan" for d in defn["accounts"].get("dimensions", [])):
        queries.append({"measures": [total, qualified], "dimensions": ["Accounts.plan"]})
    for s in nd["milestone_sets"]:
        sn = s["name"]
        funnel = []
        for m in s["milestones"]:
            funnel += [name(sn, m["key"], "accounts"), name(sn, m["key"], "percent")]
        queries.append({"measures": [name(sn, "qualified_accounts"), name(sn, "percent_qualified"), *funnel]})
        dims = [name(sn, "milestones_completed"), name(sn, "activated"), name(sn, "activated_at")]
        if nd["milestone_logs"].get("user_id"):
            dims.append(name(sn, "contributing_users"))
        queries.append({"measures": [total], "dimensions": dims})
        queries.append({"measures": [total, qualified],
                        "filters": [{"member": name(sn, "milestones_completed"), "operator": "gte", "values": ["1"]}]})
    return queries


def check(defn: dict[str, Any], data: dict[str, list[dict[str, Any]]], tmp: Path) -> None:
    now = datetime(2030, 1, 1)
    queries = []
    for q in query_matrix(defn):
        expect = oracle.answer(defn, data, q, now=now)
        queries.append({"query": q, "expect": expect})
    (tmp / "activation.yml").write_text(dump(defn))
    fixture_tables: dict[str, Any] = {}
    for table, rows in data.items():
        fixture_tables[table] = rows or []
    if not data["accounts"]:
        fixture_tables["accounts"] = [{"id": None, "created_at": None, "plan": None}]
    if not data["milestone_completion_logs"]:
        fixture_tables["milestone_completion_logs"] = [{"id": None, "account_id": None, "milestone_name": None,
                                                        "completion_date": None, "user_id": None}]
    (tmp / "fixture.yml").write_text(dump({"tables": fixture_tables, "queries": queries}))
    loaded = load_definition(tmp / "activation.yml")
    for fmt in ("yaml", "js"):
        report = verify(loaded, [tmp / "fixture.yml"], fmt=fmt)
        bad = [r for r in report.results if r.status != "pass"]
        assert not bad, (fmt, [(r.name, r.status, r.message, r.missing, r.unexpected) for r in bad])


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(defn=definitions(), data=tables())
def test_builtin_engine_matches_oracle(defn: dict[str, Any], data: dict[str, Any], tmp_path_factory: Any) -> None:
    check(defn, data, tmp_path_factory.mktemp("case"))


def test_window_boundary_case(tmp_path: Path) -> None:
    """A completion exactly at created_at + N days is outside the window; one microsecond before is inside."""
    defn = {"version": 1, "name": "edge", "accounts": {"sql_table": "accounts"},
            "milestone_logs": {"sql_table": "milestone_completion_logs"},
            "milestone_sets": [{"name": "core", "milestones": ["a"], "within_days": 1}]}
    t0 = datetime(2026, 3, 1, 9, 30)
    data = {
        "accounts": [{"id": "in", "created_at": t0}, {"id": "out", "created_at": t0}, {"id": "nul", "created_at": None}],
        "milestone_completion_logs": [
            {"id": 1, "account_id": "in", "milestone_name": "a", "completion_date": datetime(2026, 3, 2, 9, 29, 59, 999999)},
            {"id": 2, "account_id": "out", "milestone_name": "a", "completion_date": datetime(2026, 3, 2, 9, 30)},
            {"id": 3, "account_id": "nul", "milestone_name": "a", "completion_date": t0},
        ],
    }
    rows = oracle.answer(defn, data, {"measures": ["Accounts.qualifiedAccounts"]})
    assert rows == [{"Accounts.qualifiedAccounts": 1}]
    check(defn, data, tmp_path)
