"""Fixture files (SPEC §5): tables as inline rows, CSV or Parquet, and Cube queries with expected rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from activation_semantic.definition import Definition
from activation_semantic.errors import FixtureInvalid
from activation_semantic.yaml_source import Positions, load_yaml

MAX_FIXTURE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class FixtureQuery:
    index: int
    name: str
    query: dict[str, Any]
    expect: list[dict[str, Any]]
    line: int | None


@dataclass(frozen=True)
class Fixture:
    path: Path
    tables: dict[str, Any]
    queries: tuple[FixtureQuery, ...]
    positions: Positions

    def where(self, *loc: str | int) -> str:
        pos = self.positions.of(tuple(loc))
        return f"{self.path}:{pos[0]}" if pos else str(self.path)


def load_fixture(path: Path) -> Fixture:
    data, positions = load_yaml(path, max_bytes=MAX_FIXTURE_BYTES, what="fixture")
    if not isinstance(data, dict):
        raise FixtureInvalid(f"{path}:1: a fixture is a mapping with 'tables' and 'queries'")
    unknown = sorted(set(data) - {"tables", "queries", "description"})
    if unknown:
        raise FixtureInvalid(f"{path}:{positions.of((unknown[0],), key=True)[0]}: unknown key '{unknown[0]}' "  # type: ignore[index]
                             "(a fixture has tables, queries and an optional description)")
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise FixtureInvalid(f"{path}: 'tables' must map table names to rows or to a CSV/Parquet file")
    queries_raw = data.get("queries")
    if not isinstance(queries_raw, list) or not queries_raw:
        raise FixtureInvalid(f"{path}: 'queries' must be a list of {{query:, expect:}} entries")
    queries = []
    for i, q in enumerate(queries_raw):
        line = (positions.of(("queries", i)) or (None,))[0]
        if not isinstance(q, dict) or "query" not in q or "expect" not in q:
            raise FixtureInvalid(f"{path}:{line}: queries[{i}] needs 'query' and 'expect'")
        extra = sorted(set(q) - {"query", "expect", "name"})
        if extra:
            raise FixtureInvalid(f"{path}:{line}: queries[{i}]: unknown key '{extra[0]}' (use name, query, expect)")
        expect = q["expect"]
        if not isinstance(expect, list) or not all(isinstance(r, dict) for r in expect):
            raise FixtureInvalid(f"{path}:{line}: queries[{i}].expect must be a list of rows (mappings)")
        queries.append(FixtureQuery(i, str(q.get("name") or f"queries[{i}]"), q["query"], expect, line))
    return Fixture(path, tables, tuple(queries), positions)


def time_columns(d: Definition) -> dict[str, set[str]]:
    """Columns read as times, by table; key '*' applies to tables behind a custom `sql` source."""
    acc, logs = d.accounts, d.milestone_logs
    acc_cols = {acc.created_at} | {x.sql.strip() for x in acc.dimensions if x.type == "time"}
    out: dict[str, set[str]] = {}
    for table, cols in ((acc.sql_table, acc_cols), (logs.sql_table, {logs.completed_at})):
        out.setdefault(table or "*", set()).update(cols)
    return out


def _type_of(values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "VARCHAR"
    if kinds <= {bool}:
        return "BOOLEAN"
    if kinds <= {int}:
        return "BIGINT"
    if kinds <= {int, float}:
        return "DOUBLE"
    if kinds <= {datetime, date}:
        return "TIMESTAMP"
    return "VARCHAR"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(name: str) -> str:
    return ".".join(_quote(p) for p in name.split("."))


def load_tables(con: duckdb.DuckDBPyConnection, fixture: Fixture, d: Definition) -> None:
    times = time_columns(d)
    needed = [t for t in (d.accounts.sql_table, d.milestone_logs.sql_table) if t]
    missing = [t for t in needed if t not in fixture.tables]
    if missing:
        raise FixtureInvalid(f"{fixture.path}: table '{missing[0]}' is read by the definition but missing from "
                             f"'tables' (it has {', '.join(map(str, fixture.tables))})")
    for name, spec in fixture.tables.items():
        name = str(name)
        cols_time = times.get(name, set()) | times.get("*", set())
        where = fixture.where("tables", name)
        if "." in name:
            schema = name.rsplit(".", 1)[0]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_qualified(schema)}")
        try:
            if isinstance(spec, str):
                _load_file(con, name, fixture.path.parent / spec, cols_time, where)
            elif isinstance(spec, list):
                _load_rows(con, name, spec, cols_time, where)
            else:
                raise FixtureInvalid(f"{where}: table '{name}' must be a list of rows or a .csv/.parquet path")
        except duckdb.Error as exc:
            msg = str(exc).splitlines()[0]
            raise FixtureInvalid(f"{where}: table '{name}' could not be loaded: {msg}") from None


def _load_file(con: duckdb.DuckDBPyConnection, name: str, path: Path, cols_time: set[str], where: str) -> None:
    if not path.is_file():
        raise FixtureInvalid(f"{where}: table '{name}': file {path} not found (paths are relative to the fixture)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = f"read_csv('{_lit(path)}', header = true, auto_detect = true, nullstr = '')"
    elif suffix in (".parquet", ".pq"):
        reader = f"read_parquet('{_lit(path)}')"
    else:
        raise FixtureInvalid(f"{where}: table '{name}': {path.name} is neither .csv nor .parquet")
    present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    replace = [f"CAST({_quote(c)} AS TIMESTAMP) AS {_quote(c)}" for c in present if c in cols_time]
    star = f"* REPLACE ({', '.join(replace)})" if replace else "*"
    con.execute(f"CREATE TABLE {_qualified(name)} AS SELECT {star} FROM {reader}")


def _lit(path: Path) -> str:
    return str(path).replace("'", "''")


def _load_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[Any], cols_time: set[str], where: str) -> None:
    columns: list[str] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise FixtureInvalid(f"{where}: table '{name}' row {i + 1} is not a mapping of column: value")
        for key in row:
            if str(key) not in columns:
                columns.append(str(key))
    if not columns:
        raise FixtureInvalid(f"{where}: table '{name}' has no rows; give at least one row so its columns are known")
    types = {}
    for c in columns:
        values = [r.get(c) for r in rows]
        types[c] = "TIMESTAMP" if c in cols_time else _type_of(values)
    con.execute(f"CREATE TABLE {_qualified(name)} ({', '.join(f'{_quote(c)} {types[c]}' for c in columns)})")
    casts = ", ".join(f"CAST(? AS {types[c]})" for c in columns)
    data = [[_cell(r.get(c), types[c]) for c in columns] for r in rows]
    con.executemany(f"INSERT INTO {_qualified(name)} VALUES ({casts})", data)


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "VARCHAR" and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "TIMESTAMP" and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value
