"""Run fixtures on a real PostgreSQL: load the tables into a temporary schema, run SQL, drop the schema.

Fixture tables are read exactly as for DuckDB (`fixtures.load_tables`: inline rows, CSV or Parquet, time
columns as TIMESTAMP) into a scratch in-memory DuckDB, then created in a fresh schema
`activation_semantic_<random>` with the matching PostgreSQL types and filled with COPY. The session's
`search_path` is that schema only, so the definition's unqualified table names resolve to the fixture's
tables and never to a real table of the same name; `TimeZone` is UTC (Cube's Postgres SQL converts time
dimensions with `col::timestamptz AT TIME ZONE 'UTC'`). The schema is dropped (CASCADE) afterwards, also on
errors. Needs psycopg 3 (`pip install 'activation-semantic[postgres]'`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from activation_semantic.definition import Definition
from activation_semantic.dialects import DIALECTS
from activation_semantic.errors import ActivationError, Exit, FixtureInvalid, UsageError
from activation_semantic.fixtures import Fixture, load_tables

if TYPE_CHECKING:
    import psycopg

Placeholders = Literal["qmark", "numeric"]
SCHEMA_PREFIX = "activation_semantic_"
URL_SCHEMES = ("postgres://", "postgresql://")

_quote = DIALECTS["postgres"].quote_identifier


class DatabaseUnavailable(ActivationError):
    """psycopg is missing, or the PostgreSQL server cannot be reached or refuses the login."""

    exit_code = Exit.ERROR


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


def check_url(url: str) -> str:
    if not url.startswith(URL_SCHEMES):
        raise UsageError(f"--database takes a PostgreSQL URL (postgres://user@host:port/dbname or "
                         f"postgresql://...), not {redact(url)!r}")
    return url


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DatabaseUnavailable("--database needs psycopg 3: pip install 'activation-semantic[postgres]' "
                                  "(or pip install 'psycopg[binary]')") from None
    return psycopg


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection whose session time zone is UTC."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(check_url(url), autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact(url)}: {_first_line(exc)}") from None
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class Session:
    """A connection whose search_path is one temporary schema."""

    conn: psycopg.Connection[Any]
    schema: str

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return (_psycopg().Error,)

    def load_tables(self, fixture: Fixture, definition: Definition) -> None:
        load_fixture_tables(self, fixture, definition)

    def run(self, sql: str, params: list[Any] | None = None,
            placeholders: Placeholders = "qmark") -> tuple[list[str], list[tuple[Any, ...]]]:
        """Execute one statement; `?` (builtin engine, in order) or `$n` (Cube's PostgresQuery) placeholders."""
        text, values = to_pyformat(sql, list(params or []), placeholders)
        cur = self.conn.execute(text, values)  # type: ignore[arg-type]
        names = [d.name for d in cur.description or []]
        return names, cur.fetchall() if cur.description else []


@contextmanager
def temporary_schema(url: str) -> Iterator[Session]:
    """A fresh schema on the server at `url`, dropped with everything in it on exit."""
    conn = connect(url)
    schema = SCHEMA_PREFIX + secrets.token_hex(6)
    psycopg = _psycopg()
    try:
        try:
            conn.execute(f"CREATE SCHEMA {_quote(schema)}")
            conn.execute(f"SET search_path TO {_quote(schema)}")
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"PostgreSQL at {redact(url)}: cannot create a temporary schema "
                                      f"(the user needs CREATE on the database): {_first_line(exc)}") from None
        try:
            yield Session(conn, schema)
        finally:
            try:
                conn.execute(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE")
            except psycopg.Error:
                with connect(url) as again:  # the first connection broke: drop from a fresh one
                    again.execute(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE")
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ tables

_EXACT = {
    "VARCHAR": "text", "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint", "UBIGINT": "numeric",
    "HUGEINT": "numeric", "UHUGEINT": "numeric", "FLOAT": "real", "DOUBLE": "double precision", "DATE": "date",
    "TIME": "time", "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "INTERVAL": "interval",
    "UUID": "uuid", "BLOB": "bytea", "JSON": "jsonb",
}


def pg_type(duckdb_type: str) -> str | None:
    """The PostgreSQL column type for a DuckDB one; None: load the column as text."""
    t = duckdb_type.upper()
    if t in _EXACT:
        return _EXACT[t]
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    return f"numeric({m.group(1)},{m.group(2)})" if m else None


def load_fixture_tables(session: Session, fixture: Fixture, definition: Definition) -> None:
    """Every table of the fixture, typed as `verify` types it for DuckDB, into the session's schema."""
    psycopg = _psycopg()
    for name in fixture.tables:
        if "." in str(name):
            raise FixtureInvalid(f"{fixture.where('tables', name)}: table '{name}' is schema-qualified; with "
                                 "--database the fixture tables are loaded into a temporary schema, so the "
                                 "definition and the fixture must use unqualified table names")
    scratch = duckdb.connect(":memory:")
    try:
        load_tables(scratch, fixture, definition)
        for name in fixture.tables:
            name = str(name)
            described = scratch.execute(f"DESCRIBE {_quote(name)}").fetchall()
            columns = [(str(r[0]), pg_type(str(r[1]))) for r in described]
            select = ", ".join(_quote(c) if t else f"CAST({_quote(c)} AS VARCHAR)" for c, t in columns)
            rows = scratch.execute(f"SELECT {select} FROM {_quote(name)}").fetchall()
            ddl = ", ".join(f"{_quote(c)} {t or 'text'}" for c, t in columns)
            try:
                session.conn.execute(f"CREATE TABLE {_quote(name)} ({ddl})")
                with session.conn.cursor() as cur, cur.copy(
                        f"COPY {_quote(name)} ({', '.join(_quote(c) for c, _ in columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            except psycopg.Error as exc:
                raise FixtureInvalid(f"{fixture.where('tables', name)}: table '{name}' could not be loaded into "
                                     f"PostgreSQL: {_first_line(exc)}") from None
    finally:
        scratch.close()


# ------------------------------------------------------------------------------------ placeholders

_SKIP = re.compile(
    r"""'(?:[^']|'')*'"""            # string literal ('' inside)
    r'''|"(?:[^"]|"")*"'''           # quoted identifier
    r"|--[^\n]*"                     # line comment
    r"|/\*.*?\*/"                    # block comment
    r"|\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?\$(?P=tag)\$",  # dollar-quoted string
    re.DOTALL,
)
_MARK = {"qmark": re.compile(r"\?"), "numeric": re.compile(r"\$(\d+)")}


def to_pyformat(sql: str, params: list[Any], placeholders: Placeholders) -> tuple[str, list[Any]]:
    """`?` or `$n` placeholders as psycopg's `%s` (values in order of use), `%` doubled; quoted text untouched."""
    mark = _MARK[placeholders]
    out: list[str] = []
    values: list[Any] = []
    used = 0

    def plain(text: str) -> str:
        nonlocal used

        def one(m: re.Match[str]) -> str:
            nonlocal used
            if placeholders == "numeric":
                n = int(m.group(1))
                if not 1 <= n <= len(params):
                    raise ValueError(f"placeholder ${n} but {len(params)} parameter(s)")
                values.append(params[n - 1])
            else:
                if used >= len(params):
                    raise ValueError(f"more ? placeholders than the {len(params)} parameter(s)")
                values.append(params[used])
                used += 1
            return "%s"

        return mark.sub(one, text.replace("%", "%%"))

    pos = 0
    for m in _SKIP.finditer(sql):
        out.append(plain(sql[pos:m.start()]))
        out.append(m.group(0).replace("%", "%%"))
        pos = m.end()
    out.append(plain(sql[pos:]))
    if placeholders == "qmark" and used != len(params):
        raise ValueError(f"{used} ? placeholder(s) but {len(params)} parameter(s)")
    return "".join(out), values
