"""`pre_aggregations: true`: the rollup on the accounts cube, checked with Cube's own pre-aggregation matcher.

Cube 1.7.43's compiler (through ``cube_engine.render``) reports, per query, the rollup its matcher picks
(``preAggregation``), the SQL that would build the rollup table (``preAggregationTables``) and the SQL it
would run against that table (``rollupSql``). Here the headline queries must be served by the rollup, a
query it cannot answer must not be, and the rollup path must give the same numbers as the raw SQL in
DuckDB on the team_collaboration example data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import EXAMPLES
from helpers import same_value as _same

from activation_semantic.cube_query import for_cube_compiler
from activation_semantic.fixtures import load_fixture, load_tables
from activation_semantic.loader import load_definition_text
from activation_semantic.writer import write_model

EXAMPLE = EXAMPLES / "team_collaboration"

# team_collaboration (the seed's 60 % example) with the rollup switched on and a second, unwindowed set
DEFINITION = (EXAMPLE / "activation.yml").read_text(encoding="utf-8").replace(
    "version: 1\n", "version: 1\npre_aggregations: true\n", 1
) + """
  - name: first_steps
    milestones: [create_workspace, share_file]
    require: any
"""

HEADLINE = ["Accounts.totalAccounts", "Accounts.qualifiedAccounts", "Accounts.percentQualified"]
MONTH = [{"dimension": "Accounts.createdAt", "granularity": "month"}]

SERVED: dict[str, dict[str, Any]] = {
    "headline": {"measures": ["Accounts.percentQualified"]},
    "headline_counts": {"measures": HEADLINE},
    "by_month": {"measures": ["Accounts.percentQualified"], "timeDimensions": MONTH},
    "by_month_counts": {"measures": HEADLINE, "timeDimensions": MONTH},
    "by_month_in_range": {
        "measures": ["Accounts.percentQualified"],
        "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "month",
                            "dateRange": ["2026-02-01", "2026-04-30"]}],
    },
    "by_week": {"measures": HEADLINE, "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "week"}]},
    "by_plan": {"measures": ["Accounts.percentQualified"], "dimensions": ["Accounts.plan"]},
    "plan_filter": {
        "measures": HEADLINE,
        "filters": [{"member": "Accounts.plan", "operator": "equals", "values": ["team"]}],
    },
    "set_measures": {"measures": ["Accounts.coreQualifiedAccounts", "Accounts.corePercentQualified",
                                  "Accounts.firstStepsQualifiedAccounts", "Accounts.firstStepsPercentQualified"]},
    "funnel": {"measures": ["Accounts.coreCreateWorkspaceAccounts", "Accounts.coreCreateWorkspacePercent",
                            "Accounts.coreInviteTeammatePercent", "Accounts.coreShareFilePercent",
                            "Accounts.firstStepsShareFilePercent"],
               "dimensions": ["Accounts.plan"], "timeDimensions": MONTH},
    "view_headline": {"measures": ["TeamCollaborationActivation.percentQualified"],
                      "timeDimensions": [{"dimension": "TeamCollaborationActivation.createdAt", "granularity": "month"}]},
}

NOT_SERVED: dict[str, dict[str, Any]] = {
    # a per-account dimension that is not in the rollup
    "by_milestones_completed": {"measures": ["Accounts.totalAccounts"], "dimensions": ["Accounts.coreMilestonesCompleted"]},
    # finer than the rollup's day granularity
    "by_hour": {"measures": ["Accounts.percentQualified"],
                "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "hour"}]},
    # a segment is not part of the rollup
    "segment": {"measures": ["Accounts.totalAccounts"], "segments": ["Accounts.qualified"]},
    # fan-out through the logs cube
    "by_logged_milestone": {"measures": ["Accounts.totalAccounts"], "dimensions": ["MilestoneCompletionLogs.milestoneName"]},
}


@pytest.fixture(scope="module", params=["yaml", "js"])
def model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"preagg-{request.param}") / "model"
    write_model(load_definition_text(DEFINITION, str(EXAMPLE / "activation.yml")), out, fmt=request.param)
    return out


@pytest.fixture(scope="module")
def rendered(cube: None, model_dir: Path) -> dict[str, dict[str, Any]]:
    from activation_semantic import cube_engine

    queries = {**SERVED, **NOT_SERVED}
    results = cube_engine.render_checked(model_dir, [for_cube_compiler(q) for q in queries.values()])
    out = dict(zip(queries, results, strict=True))
    for name, res in out.items():
        assert not res.get("error"), f"{name}: Cube rejects the query: {res['error']}"
    return out


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    loaded = load_definition_text(DEFINITION, str(EXAMPLE / "activation.yml"))
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    load_tables(connection, load_fixture(EXAMPLE / "fixture.yml"), loaded.definition)
    yield connection
    connection.close()


def test_definition_emits_one_rollup(model_dir: Path) -> None:
    ext = "yml" if (model_dir / "cubes" / "accounts.yml").exists() else "js"
    text = (model_dir / "cubes" / f"accounts.{ext}").read_text()
    assert text.count("rollup") == 1
    assert "activation" in text and "granularity" in text


@pytest.mark.parametrize("name", sorted(SERVED))
def test_rollup_serves_the_activation_queries(rendered: dict[str, dict[str, Any]], name: str) -> None:
    res = rendered[name]
    assert res["preAggregation"] == "Accounts.activation", f"{name}: Cube's matcher picked {res['preAggregation']!r}"
    assert res.get("rollupSql") and "accounts_activation" in res["rollupSql"]
    assert not res.get("preAggregationError")


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_rollup_does_not_serve_what_it_cannot_answer(rendered: dict[str, dict[str, Any]], name: str) -> None:
    assert rendered[name]["preAggregation"] is None


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return sorted((tuple(sorted(r.items())) for r in rows), key=repr)




@pytest.mark.parametrize("name", sorted(SERVED))
def test_rollup_gives_the_raw_numbers(rendered: dict[str, dict[str, Any]], con: duckdb.DuckDBPyConnection,
                                      name: str) -> None:
    res = rendered[name]
    con.execute("DROP SCHEMA IF EXISTS stb_pre_aggregations CASCADE")
    con.execute("CREATE SCHEMA stb_pre_aggregations")
    for table in res["preAggregationTables"]:
        con.execute(table["sql"], table["params"])
    raw = _rows(con, res["sql"], res["params"])
    rolled = _rows(con, res["rollupSql"], res["rollupParams"])
    assert raw, f"{name}: the raw query returned no rows"
    assert len(raw) == len(rolled), f"{name}: raw {raw} vs rollup {rolled}"
    for r, p in zip(raw, rolled, strict=True):
        assert [k for k, _ in r] == [k for k, _ in p]
        assert all(_same(x, y) for (_, x), (_, y) in zip(r, p, strict=True)), f"{name}: raw {r} vs rollup {p}"


def test_headline_through_the_rollup_is_the_seed_example(rendered: dict[str, dict[str, Any]],
                                                         con: duckdb.DuckDBPyConnection) -> None:
    res = rendered["headline_counts"]
    con.execute("DROP SCHEMA IF EXISTS stb_pre_aggregations CASCADE")
    con.execute("CREATE SCHEMA stb_pre_aggregations")
    for table in res["preAggregationTables"]:
        con.execute(table["sql"], table["params"])
    (row,) = _rows(con, res["rollupSql"], res["rollupParams"])
    values = dict(row)
    assert values == {"accounts__total_accounts": 600, "accounts__qualified_accounts": 360,
                      "accounts__percent_qualified": 60.0}


def test_without_the_option_there_is_no_rollup(tmp_path: Path) -> None:
    plain = DEFINITION.replace("pre_aggregations: true\n", "")
    write_model(load_definition_text(plain, str(EXAMPLE / "activation.yml")), tmp_path / "m")
    assert "pre_aggregations" not in (tmp_path / "m" / "cubes" / "accounts.yml").read_text()
