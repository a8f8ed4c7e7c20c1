"""Fixture files (SPEC §5): tables as inline rows, CSV or Parquet, and Cube queries with expected rows."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from activation_semantic.definition import Definition
from activation_semantic.errors import FixtureInvalid
from activation_semantic.yaml_source import Positions, load_yaml

MAX_FIXTURE_BYTES = 64 * 1024 * 1024
_FIXTURE_KEYS = ("tables", "queries", "description")
_QUERY_KEYS = ("name", "query", "expect")


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


def _unknown_key(key: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return f"unknown key '{key}' (" + (f"did you mean '{close[0]}'?" if close else "use " + ", ".join(known)) + ")"


def load_fixture(path: Path) -> Fixture:
    data, positions = load_yaml(path, max_bytes=MAX_FIXTURE_BYTES, what="fixture")

    def at(*loc: str | int, key: bool = False) -> str:
        pos = positions.of(tuple(loc), key=key)
        return f"{path}:{pos[0]}" if pos else f"{path}:1"

    if not isinstance(data, dict):
        raise FixtureInvalid(f"{path}:1: a fixture is a mapping with 'tables' and 'queries' (see README, Verifying numbers)")
    unknown = sorted(set(data) - set(_FIXTURE_KEYS))
    if unknown:
        raise FixtureInvalid(f"{at(unknown[0], key=True)}: {_unknown_key(unknown[0], _FIXTURE_KEYS)}")
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        what = "is missing" if "tables" not in data else "is empty or not a mapping"
        raise FixtureInvalid(f"{at('tables')}: 'tables' {what}; map each table name to rows or to a "
                             ".csv/.parquet path")
    queries_raw = data.get("queries")
    if not isinstance(queries_raw, list) or not queries_raw:
        what = "is missing" if "queries" not in data else "is empty or not a list"
        raise FixtureInvalid(f"{at('queries')}: 'queries' {what}; give a list of {{query:, expect:}} entries")
    queries = []
    for i, q in enumerate(queries_raw):
        line = (positions.of(("queries", i)) or (None,))[0]
        if not isinstance(q, dict) or "query" not in q or "expect" not in q:
            missing = "a mapping" if not isinstance(q, dict) else " and ".join(
                f"'{k}'" for k in ("query", "expect") if k not in q)
            raise FixtureInvalid(f"{path}:{line}: queries[{i}] needs {missing}: "
                                 "- {query: {measures: [...]}, expect: [{...}]}")
        extra = sorted(set(q) - set(_QUERY_KEYS))
        if extra:
            raise FixtureInvalid(f"{at('queries', i, extra[0], key=True)}: queries[{i}]: "
                                 f"{_unknown_key(extra[0], _QUERY_KEYS)}")
        expect = q["expect"]
        if not isinstance(expect, list) or not all(isinstance(r, dict) for r in expect):
            raise FixtureInvalid(f"{at('queries', i, 'expect')}: queries[{i}].expect must be a list of rows "
                                 "(mappings of member: value), e.g. [{Accounts.totalAccounts: 3}]; [] for no rows")
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


def required_columns(d: Definition) -> dict[str, dict[str, str]]:
    """Columns the generated accounts SQL reads on every query, by `sql_table`: {table: {column: role}}."""
    acc, logs = d.accounts, d.milestone_logs
    out: dict[str, dict[str, str]] = {}
    if acc.sql_table:
        cols = {acc.primary_key: "accounts.primary_key"}
        if any(s.within_days is not None for s in d.milestone_sets):
            cols[acc.created_at] = "accounts.created_at"
        out[acc.sql_table] = cols
    if logs.sql_table:
        cols = {logs.account_id: "milestone_logs.account_id", logs.milestone: "milestone_logs.milestone",
                logs.completed_at: "milestone_logs.completed_at"}
        if logs.user_id:
            cols[logs.user_id] = "milestone_logs.user_id"
        out.setdefault(logs.sql_table, {}).update(cols)
    return out


def load_tables(con: duckdb.DuckDBPyConnection, fixture: Fixture, d: Definition) -> None:
    con.execute("SET TimeZone = 'UTC'")  # times are naive UTC, as Cube's SQL assumes
    times = time_columns(d)
    needed = [(t, role) for t, role in ((d.accounts.sql_table, "accounts"), (d.milestone_logs.sql_table,
                                                                              "milestone_logs")) if t]
    missing = [(t, role) for t, role in needed if t not in fixture.tables]
    if missing:
        table, role = missing[0]
        raise FixtureInvalid(f"{fixture.where('tables')}: table '{table}' ({role}.sql_table in the definition) is "
                             f"missing from 'tables'; add it as rows or a .csv/.parquet path "
                             f"(the fixture has {', '.join(map(str, fixture.tables))})")
    required = required_columns(d)
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
                _load_rows(con, name, spec, cols_time, where, fixture)
            else:
                raise FixtureInvalid(f"{where}: table '{name}' must be a list of rows or a .csv/.parquet path")
        except duckdb.Error as exc:
            source = f"{spec}: " if isinstance(spec, str) else ""
            raise FixtureInvalid(f"{where}: table '{name}' could not be loaded: {source}{_duckdb_reason(exc)}; "
                                 "fix the data or the file") from None
        if name in required:
            present = [r[0] for r in con.execute(f"DESCRIBE {_qualified(name)}").fetchall()]
            lower = {c.lower() for c in present}
            for col, role in required[name].items():
                if col.lower() not in lower:
                    raise FixtureInvalid(f"{where}: table '{name}' has no column '{col}', which the definition reads "
                                         f"({role}); add it (the table has {', '.join(present)})")


def _duckdb_reason(exc: duckdb.Error) -> str:
    """The useful part of a DuckDB load error: the CSV line and what is wrong with it."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    m = re.search(r"CSV Error on Line: (\d+)", first)
    if m:
        detail = next((ln for ln in lines[1:] if not ln.startswith("Original Line")), "")
        return f"line {m.group(1)}: {detail.rstrip('.')}" if detail else f"line {m.group(1)}"
    return re.sub(r"^[A-Za-z ]+Error: ", "", first)


def _load_file(con: duckdb.DuckDBPyConnection, name: str, path: Path, cols_time: set[str], where: str) -> None:
    if path.is_dir():
        raise FixtureInvalid(f"{where}: table '{name}': {path} is a folder; give a .csv or .parquet file")
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
    times = [c for c in present if c in cols_time]
    if suffix == ".csv" and times:  # read time columns as text: CSV sniffing drops a spelled-out UTC offset
        as_text = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in times)
        reader = reader[:-1] + f", types = {{{as_text}}})"
        for c in times:  # name the first CSV line whose time does not parse, as DuckDB's own reader would
            bad = con.execute(f"SELECT v, n FROM (SELECT {_quote(c)} AS v, row_number() OVER () AS n FROM {reader}) "
                              "WHERE v IS NOT NULL AND TRY_CAST(v AS TIMESTAMPTZ) IS NULL LIMIT 1").fetchone()
            if bad:
                raise duckdb.ConversionException(f"CSV Error on Line: {bad[1] + 1}\nError when converting column "
                                                 f"\"{c}\". Could not convert string \"{bad[0]}\" to 'TIMESTAMP'")
    # through TIMESTAMPTZ so an offset (…+02:00, …Z) is honoured; naive values are read as UTC
    replace = [f"CAST(CAST({_quote(c)} AS TIMESTAMPTZ) AS TIMESTAMP) AS {_quote(c)}" for c in times]
    star = f"* REPLACE ({', '.join(replace)})" if replace else "*"
    con.execute(f"CREATE TABLE {_qualified(name)} AS SELECT {star} FROM {reader}")


def _lit(path: Path) -> str:
    return str(path).replace("'", "''")


def _load_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[Any], cols_time: set[str], where: str,
               fixture: Fixture | None = None) -> None:
    columns: list[str] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            pos = fixture.positions.of(("tables", name, i)) if fixture else None
            at = f"{fixture.path}:{pos[0]}" if fixture and pos else where
            raise FixtureInvalid(f"{at}: table '{name}' row {i + 1} is not a mapping of column: value; "
                                 "write it as {column: value, ...}")
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
    try:
        con.executemany(f"INSERT INTO {_qualified(name)} VALUES ({casts})", data)
    except duckdb.Error:
        _bad_cell(con, name, rows, columns, types, where, fixture)
        raise


def _bad_cell(con: duckdb.DuckDBPyConnection, name: str, rows: list[Any], columns: list[str], types: dict[str, str],
              where: str, fixture: Fixture | None) -> None:
    """Raise naming the first row and column whose value DuckDB cannot store (the row's own line)."""
    for i, row in enumerate(rows):
        for c in columns:
            value = _cell(row.get(c), types[c])
            try:
                con.execute(f"SELECT CAST(? AS {types[c]})", [value])
            except duckdb.Error:
                pos = fixture.positions.of(("tables", name, i, c)) if fixture else None
                at = f"{fixture.path}:{pos[0]}" if fixture and pos else where
                hint = ("write it as 2026-01-31 09:30:00 (or a YAML timestamp)" if types[c] == "TIMESTAMP"
                        else "use one type per column")
                raise FixtureInvalid(f"{at}: table '{name}' row {i + 1}, column '{c}': {row.get(c)!r} is not a "
                                     f"{types[c].lower()}; {hint}") from None


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "VARCHAR" and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "TIMESTAMP" and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value
