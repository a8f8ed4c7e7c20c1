"""Run fixture queries against generated model files in DuckDB and compare with expectations."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from activation_semantic import builtin_engine
from activation_semantic.compare import compare_rows, plain
from activation_semantic.cube_model import CubeModel, Dimension, Measure, Segment
from activation_semantic.cube_query import QueryError, check_shape, for_cube_compiler, output_key, resolve
from activation_semantic.dialects import DIALECTS
from activation_semantic.errors import FixtureInvalid, UsageError
from activation_semantic.fixtures import Fixture, FixtureQuery, load_fixture, load_tables
from activation_semantic.loader import LoadedDefinition
from activation_semantic.model_read import read_model
from activation_semantic.naming import snake_case
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


def cube_alias(key: str) -> str:
    """The column alias Cube gives a member: `Accounts.createdAt.month` → `accounts__created_at_month`."""
    parts = key.split(".")
    alias = snake_case(parts[0]) + "__" + snake_case(parts[1])
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


@dataclass(frozen=True)
class _Target:
    """Where the SQL runs: `run(sql, params, placeholders)`, placeholders 'qmark' (?) or 'numeric' ($n)."""

    label: str
    run: Callable[[str, list[Any], str], tuple[list[str], list[tuple[Any, ...]]]]
    errors: tuple[type[Exception], ...]


def _duckdb_target(con: duckdb.DuckDBPyConnection) -> _Target:
    return _Target("DuckDB", lambda sql, params, _style: _run(con, sql, params), (duckdb.Error,))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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


def _builtin(model: CubeModel, target: _Target, fixture: Fixture) -> list[QueryResult]:
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
            _, data = target.run(planned.sql, planned.params, "qmark")
        except target.errors as exc:
            results.append(QueryResult(str(fixture.path), q.name, q.line, "error",
                                       f"{target.label}: {_first_line(exc)}", sql=planned.sql))
            continue
        rows = [dict(zip(planned.columns, r, strict=True)) for r in data]
        results.append(_finish(q, fixture, rows, planned.sql))
    return results


def _query_problem(model: CubeModel, query: Any) -> str | None:
    """Why the query itself is wrong for this model (shape, unknown member), or None if it is not the query."""
    try:  # only the query's own members: planning would also render the model's SQL, whose faults are not the query's
        check_shape(query)
        for key, kinds in (("measures", (Measure,)), ("dimensions", (Dimension,)), ("segments", (Segment,))):
            for name in query.get(key, []):
                resolve(model, name, kinds)
        for td in query.get("timeDimensions", []):
            resolve(model, td["dimension"], (Dimension,))
        builtin_engine._filter_members(model, query.get("filters", []))
    except QueryError as exc:
        return str(exc)
    return None


def _cube(model_dir: Path, model: CubeModel, target: _Target, fixture: Fixture,
          dialect: str) -> list[QueryResult]:
    from activation_semantic import cube_engine

    rendered = cube_engine.render_checked(model_dir, [for_cube_compiler(q.query) for q in fixture.queries], dialect)
    results = []
    for q, res in zip(fixture.queries, rendered, strict=True):
        if res.get("error"):
            problem = _query_problem(model, q.query)
            if problem is not None:
                raise FixtureInvalid(f"{fixture.path}:{q.line}: {q.name}: Cube rejects the query: {res['error']}")
            # a well-formed query over existing members: the model is what Cube cannot plan
            results.append(QueryResult(str(fixture.path), q.name, q.line, "error",
                                       f"Cube cannot render this query from {model_dir}: {res['error']}"))
            continue
        columns = query_columns(q.query)
        _check_expect_keys(q, columns, fixture)
        try:
            names, data = target.run(res["sql"], res["params"], DIALECTS[dialect].cube_placeholders)
        except target.errors as exc:
            results.append(QueryResult(str(fixture.path), q.name, q.line, "error",
                                       f"{target.label}: {_first_line(exc)}", sql=res["sql"]))
            continue
        by_alias = {cube_alias(c): c for c in columns} | dict(res.get("aliasNameToMember") or {})
        by_alias |= {a[:63]: m for a, m in by_alias.items() if len(a) > 63 and a[:63] not in by_alias}  # PG: 63 chars
        keys = [by_alias.get(n, n) for n in names]
        rows = [dict(zip(keys, r, strict=True)) for r in data]
        results.append(_finish(q, fixture, rows, res["sql"]))
    return results


def _check_dialect(loaded: LoadedDefinition, database: str | None) -> None:
    """Refuse early what cannot be executed (README "Warehouses")."""
    dialect = DIALECTS[loaded.definition.dialect]
    if database is not None:
        from activation_semantic.postgres import check_url

        check_url(database)
        if "postgres" not in dialect.executable_on:
            raise UsageError(f"{loaded.source}: --database runs the SQL on PostgreSQL, but the definition has "
                             f"dialect: {dialect.name}; set dialect: postgres to verify on PostgreSQL")
    elif "duckdb" not in dialect.executable_on:
        raise UsageError(
            f"{loaded.source}: dialect {dialect.name}: verify executes the generated SQL, and {dialect.name} SQL runs "
            f"neither on DuckDB nor on PostgreSQL. The {dialect.name} model is proven by compiling it with Cube's "
            f"{dialect.cube_query_class} and parsing every query's SQL with sqlglot (tests/test_dialects.py). "
            "To check the numbers, verify a copy of the definition with dialect: duckdb (or dialect: postgres "
            "and --database): the semantics do not depend on the dialect.")


def _evaluate(engine: str, model: CubeModel, model_dir: Path, target: _Target, fixture: Fixture,
              dialect: str) -> list[QueryResult]:
    if engine == "builtin":
        return _builtin(model, target, fixture)
    return _cube(model_dir, model, target, fixture, dialect)


def _model_files(loaded: LoadedDefinition, tmp: str, model_dir: Path | None, fmt: str) -> tuple[Path, CubeModel]:
    """The model folder to evaluate (generated into `tmp` unless given) and the model read back from its files."""
    if model_dir is None:
        model_dir = Path(tmp) / "model"
        write_model(loaded, model_dir, fmt=fmt)  # type: ignore[arg-type]
    return model_dir, read_model(model_dir)


def builtin_rows(loaded: LoadedDefinition, fixture: Fixture, query: dict[str, Any]) -> list[dict[str, Any]]:
    """One query through the generated files and the builtin engine, over the fixture's tables in DuckDB.

    Raises QueryError / builtin_engine.Unsupported for the query and duckdb.Error for the run.
    """
    with tempfile.TemporaryDirectory(prefix="activation-semantic-") as tmp:
        _, model = _model_files(loaded, tmp, None, "yaml")
    planned = builtin_engine.plan(model, query)
    con = duckdb.connect(":memory:")
    try:
        load_tables(con, fixture, loaded.definition)
        _, data = _run(con, planned.sql, planned.params)
    finally:
        con.close()
    return [dict(zip(planned.columns, r, strict=True)) for r in data]


def verify(loaded: LoadedDefinition, fixture_paths: list[Path], engine: Engine = "builtin",
           model_dir: Path | None = None, connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
           fmt: str = "yaml", database: str | None = None) -> VerifyReport:
    """Run the fixtures against the model files: in an in-memory DuckDB or, with `database` (a PostgreSQL URL,
    definition dialect: postgres), in a temporary schema on that server, dropped afterwards."""
    _check_dialect(loaded, database)
    fixtures = [load_fixture(p) for p in fixture_paths]
    with tempfile.TemporaryDirectory(prefix="activation-semantic-") as tmp:
        model_dir, model = _model_files(loaded, tmp, model_dir, fmt)
        results: list[QueryResult] = []
        for fixture in fixtures:
            if database is not None:
                from activation_semantic import postgres

                with postgres.temporary_schema(database) as session:
                    session.load_tables(fixture, loaded.definition)
                    target = _Target("PostgreSQL", session.run, session.errors)  # type: ignore[arg-type]
                    results += _evaluate(engine, model, model_dir, target, fixture, loaded.definition.dialect)
                continue
            con = connect() if connect else duckdb.connect(":memory:")
            try:
                load_tables(con, fixture, loaded.definition)
                results += _evaluate(engine, model, model_dir, _duckdb_target(con), fixture, loaded.definition.dialect)
            finally:
                con.close()
    return VerifyReport(engine, str(model_dir), results)
