"""Run fixture queries against generated model files in DuckDB and compare with expectations."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from activation_semantic import builtin_engine
from activation_semantic.compare import compare_rows, plain
from activation_semantic.cube_model import CubeModel
from activation_semantic.cube_query import QueryError, for_cube_compiler, output_key
from activation_semantic.errors import FixtureInvalid
from activation_semantic.fixtures import Fixture, FixtureQuery, load_fixture, load_tables
from activation_semantic.loader import LoadedDefinition
from activation_semantic.model_read import read_model
from activation_semantic.writer import write_model

Engine = Literal["builtin", "cube"]
Status = Literal["pass", "fail", "unsupported", "error"]


@dataclass
class QueryResult:
    fixture: str
    name: str
    line: int | None
    status: Status
    message: str = ""
    missing: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    actual: list[dict[str, Any]] = field(default_factory=list)
    sql: str = ""


@dataclass
class VerifyReport:
    engine: str
    model_dir: str
    results: list[QueryResult]

    @property
    def ok(self) -> bool:
        return all(r.status in ("pass", "unsupported") for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def cube_alias(key: str) -> str:
    """The column alias Cube gives a member: `Accounts.createdAt.month` → `accounts__created_at_month`."""
    parts = key.split(".")
    alias = _snake(parts[0]) + "__" + _snake(parts[1])
    return alias + ("_" + parts[2] if len(parts) > 2 else "")


def query_columns(query: dict[str, Any]) -> list[str]:
    cols = [str(d) for d in query.get("dimensions", [])]
    cols += [output_key(td["dimension"], td.get("granularity")) for td in query.get("timeDimensions", [])
             if td.get("granularity")]
    cols += [str(m) for m in query.get("measures", [])]
    return cols


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return names, cur.fetchall()


def _check_expect_keys(q: FixtureQuery, columns: list[str], fixture: Fixture) -> None:
    for row in q.expect:
        for key in row:
            if key not in columns:
                raise FixtureInvalid(f"{fixture.path}:{q.line}: {q.name}: expected column '{key}' is not selected "
                                     f"by the query (it selects {', '.join(columns)})")


def _finish(q: FixtureQuery, fixture: Fixture, rows: list[dict[str, Any]], sql: str) -> QueryResult:
    diff = compare_rows(q.expect, rows, ordered=bool(q.query.get("order")))
    status: Status = "pass" if diff.ok else "fail"
    actual = [{k: plain(v) for k, v in r.items()} for r in rows]
    return QueryResult(str(fixture.path), q.name, q.line, status, "", diff.missing, diff.unexpected, actual, sql)


def _builtin(model: CubeModel, con: duckdb.DuckDBPyConnection, fixture: Fixture) -> list[QueryResult]:
    results = []
    for q in fixture.queries:
        try:
            planned = builtin_engine.plan(model, q.query)
        except QueryError as exc:
            raise FixtureInvalid(f"{fixture.path}:{q.line}: {q.name}: {exc}") from None
        except builtin_engine.Unsupported as exc:
            results.append(QueryResult(str(fixture.path), q.name, q.line, "unsupported",
                                       f"the builtin engine does not plan this: {exc}"))
            continue
        _check_expect_keys(q, planned.columns, fixture)
        try:
            _, data = _run(con, planned.sql, planned.params)
        except duckdb.Error as exc:
            results.append(QueryResult(str(fixture.path), q.name, q.line, "error",
                                       f"DuckDB: {str(exc).splitlines()[0]}", sql=planned.sql))
            continue
        rows = [dict(zip(planned.columns, r, strict=True)) for r in data]
        results.append(_finish(q, fixture, rows, planned.sql))
    return results


def _cube(model_dir: Path, con: duckdb.DuckDBPyConnection, fixture: Fixture, dialect: str) -> list[QueryResult]:
    from activation_semantic import cube_engine

    rendered = cube_engine.render_checked(model_dir, [for_cube_compiler(q.query) for q in fixture.queries], dialect)
    results = []
    for q, res in zip(fixture.queries, rendered, strict=True):
        if res.get("error"):
            raise FixtureInvalid(f"{fixture.path}:{q.line}: {q.name}: Cube rejects the query: {res['error']}")
        columns = query_columns(q.query)
        _check_expect_keys(q, columns, fixture)
        try:
            names, data = _run(con, res["sql"], cube_engine.duckdb_params(res["params"]))
        except duckdb.Error as exc:
            results.append(QueryResult(str(fixture.path), q.name, q.line, "error",
                                       f"DuckDB: {str(exc).splitlines()[0]}", sql=res["sql"]))
            continue
        by_alias = {cube_alias(c): c for c in columns} | dict(res.get("aliasNameToMember") or {})
        keys = [by_alias.get(n, n) for n in names]
        rows = [dict(zip(keys, r, strict=True)) for r in data]
        results.append(_finish(q, fixture, rows, res["sql"]))
    return results


def verify(loaded: LoadedDefinition, fixture_paths: list[Path], engine: Engine = "builtin",
           model_dir: Path | None = None, connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
           fmt: str = "yaml") -> VerifyReport:
    fixtures = [load_fixture(p) for p in fixture_paths]
    with tempfile.TemporaryDirectory(prefix="activation-semantic-") as tmp:
        if model_dir is None:
            model_dir = Path(tmp) / "model"
            write_model(loaded, model_dir, fmt=fmt)  # type: ignore[arg-type]
        model = read_model(model_dir)
        results: list[QueryResult] = []
        for fixture in fixtures:
            con = connect() if connect else duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
            try:
                load_tables(con, fixture, loaded.definition)
                if engine == "builtin":
                    results += _builtin(model, con, fixture)
                else:
                    results += _cube(model_dir, con, fixture, loaded.definition.dialect)
            finally:
                con.close()
    return VerifyReport(engine, str(model_dir), results)
