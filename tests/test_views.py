"""The generated view (`OUT/views/`): it compiles in Cube, exposes the activation members, and a query through
the view's members gives the same numbers as the same query through the Accounts cube."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from helpers import same_value as _same

from activation_semantic.cube_query import for_cube_compiler
from activation_semantic.fixtures import load_fixture, load_tables
from activation_semantic.loader import load_definition
from activation_semantic.members import Members, build_members
from activation_semantic.writer import write_model


def activation_members(definition: Any, m: Members) -> set[str]:
    """SPEC §4's Accounts members: what a BI tool needs to chart the KPI, its funnel and its cohorts."""
    names = {m.total, m.qualified, m.percent, m.id, m.created_at, m.segment_qualified}
    names |= {dim.name for dim in definition.accounts.dimensions}
    for s in m.sets:
        names |= {n for n in (s.qualified, s.percent, s.completed, s.activated, s.activated_at, s.window_closed,
                              s.users, s.segment_qualified, s.segment_mature) if n is not None}
        for mm in s.milestones:
            names |= {mm.accounts, mm.percent}
    return names


def _through_view(query: dict[str, Any], cube: str, view: str) -> dict[str, Any]:
    return _rename(query, re.compile(rf"^{re.escape(cube)}\."), f"{view}.")


def _rename(value: Any, pattern: re.Pattern[str], repl: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(repl, value)
    if isinstance(value, list):
        return [_rename(v, pattern, repl) for v in value]
    if isinstance(value, dict):
        return {_rename(k, pattern, repl): _rename(v, pattern, repl) for k, v in value.items()}
    return value


def _uses_only(query: dict[str, Any], cube: str) -> bool:
    members: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str) and "." in v:
            members.append(v)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k in ("member", "dimension", "measures", "dimensions", "segments", "and", "or", "timeDimensions",
                         "filters", "order"):
                    walk(x)
                if k == "order" and isinstance(x, dict):
                    walk(list(x))

    walk(query)
    return all(m.split(".")[0] == cube for m in members)


@pytest.fixture(scope="module", params=EXAMPLE_NAMES)
def example(request: pytest.FixtureRequest, cube: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from activation_semantic import cube_engine

    name = request.param
    loaded = load_definition(EXAMPLES / name / "activation.yml")
    d = loaded.definition
    m = build_members(d)
    model_dir = EXAMPLES / name / "model"
    fixture = load_fixture(EXAMPLES / name / "fixture.yml")
    queries = [q for q in fixture.queries if _uses_only(q.query, d.accounts.cube)]
    cube_qs = [for_cube_compiler(q.query) for q in queries]
    view_qs = [for_cube_compiler(_through_view(q.query, d.accounts.cube, m.view)) for q in queries]
    doc = cube_engine.render(model_dir, cube_qs + view_qs, meta=True)
    assert doc["ok"], f"Cube rejects examples/{name}/model: {doc.get('errors')}"
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    load_tables(con, fixture, d)
    yield {"name": name, "definition": d, "members": m, "doc": doc, "queries": queries,
           "cube_results": doc["results"][: len(queries)], "view_results": doc["results"][len(queries):], "con": con}
    con.close()


def _meta(doc: dict[str, Any], name: str) -> dict[str, Any]:
    hits = [c for c in doc["meta"]["cubes"] if c["name"] == name]
    assert hits, f"Cube's meta has no {name}: {[c['name'] for c in doc['meta']['cubes']]}"
    return hits[0]


def test_view_compiles_and_is_public(example: dict[str, Any]) -> None:
    view = _meta(example["doc"], example["members"].view)
    assert view["isView"] and view["public"]
    assert view["title"] and view["description"]
    assert view["fileName"].startswith("views/")


def test_view_exposes_the_activation_members(example: dict[str, Any]) -> None:
    d, m = example["definition"], example["members"]
    view = _meta(example["doc"], m.view)
    exposed = {x["name"]: x for kind in ("measures", "dimensions", "segments") for x in view[kind]}
    missing = activation_members(d, m) - set(exposed)
    assert not missing, f"view {m.view} lacks {sorted(missing)}"
    for name, member in exposed.items():
        if "aliasMember" in member:
            assert member["aliasMember"] == f"{d.accounts.cube}.{name}"
    cube = _meta(example["doc"], d.accounts.cube)
    dims = {x["name"]: x for x in cube["dimensions"]}
    for x in view["dimensions"]:
        assert x["type"] == dims[x["name"]]["type"], f"dimension {x['name']} changes type through the view"
    measures = {x["name"]: x for x in cube["measures"]}
    for x in view["measures"]:  # Cube types every view measure `number`; the format must survive
        assert x.get("format") == measures[x["name"]].get("format"), f"measure {x['name']} loses its format"
    assert _meta(example["doc"], m.view)["measures"], "the view has no measures"


def test_view_files_are_generated_with_the_model(example: dict[str, Any], tmp_path: Path) -> None:
    loaded = load_definition(EXAMPLES / example["name"] / "activation.yml")
    for fmt, ext in (("yaml", "yml"), ("js", "js")):
        out = tmp_path / fmt
        write_model(loaded, out, fmt=fmt)  # type: ignore[arg-type]
        views = sorted(p.name for p in (out / "views").iterdir())
        assert len(views) == 1 and views[0].endswith(f".{ext}"), views


def _rows(con: duckdb.DuckDBPyConnection, res: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    assert not res.get("error"), res.get("error")
    cur = con.execute(res["sql"], res["params"])
    names = [res["aliasNameToMember"].get(n, n) for n in (d[0] for d in cur.description)]
    rows = [{k.split(".", 1)[1]: v for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]
    assert all(k.startswith(prefix) for k in names), names
    return sorted(rows, key=lambda r: repr(sorted(r.items())))




def test_queries_through_the_view_give_the_cube_numbers(example: dict[str, Any]) -> None:
    d, m, con = example["definition"], example["members"], example["con"]
    assert example["queries"], "no fixture query to compare"
    for q, via_cube, via_view in zip(example["queries"], example["cube_results"], example["view_results"], strict=True):
        cube_rows = _rows(con, via_cube, d.accounts.cube + ".")
        view_rows = _rows(con, via_view, m.view + ".")
        assert len(cube_rows) == len(view_rows), f"{q.name}: {cube_rows} vs {view_rows}"
        for a, b in zip(cube_rows, view_rows, strict=True):
            assert a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a), f"{q.name}: cube {a} vs view {b}"


def test_headline_through_the_view_is_the_seed_example(cube: None) -> None:
    from activation_semantic import cube_engine

    example = EXAMPLES / "team_collaboration"
    loaded = load_definition(example / "activation.yml")
    m = build_members(loaded.definition)
    query = {"measures": [f"{m.view}.{x}" for x in (m.total, m.qualified, m.percent)]}
    (res,) = cube_engine.render_checked(example / "model", [query])
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    load_tables(con, load_fixture(example / "fixture.yml"), loaded.definition)
    (row,) = _rows(con, res, m.view + ".")
    assert row == {m.total: 600, m.qualified: 360, m.percent: 60.0}
