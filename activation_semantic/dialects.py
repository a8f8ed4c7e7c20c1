"""Everything warehouse-specific in the generated SQL, one row per dialect.

Conventions every row relies on (and README "Warehouses" states): time columns are naive timestamps
holding UTC (DuckDB/Postgres `TIMESTAMP`, Snowflake `TIMESTAMP_NTZ`, BigQuery `TIMESTAMP`, which is what
Cube's own adapters assume), and table/column names from the definition are written unquoted, exactly as a
user writes them in that warehouse (quoting would change their case rules: Postgres folds unquoted names to
lower case, Snowflake to upper case). `quote_identifier` is for names the tool itself must quote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Characters kept out of generated SQL text: C0/C1 controls, line/paragraph separators, BOM.
_UNPRINTABLE = {*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF}
_BACKSLASH_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _standard_literal(text: str) -> str:
    """ANSI: only `'` is special and doubles (Postgres with standard_conforming_strings, the default since 9.1)."""
    return "'" + text.replace("'", "''") + "'"


def _backslash_literal(text: str) -> str:
    """Snowflake and BigQuery read backslash escapes inside '...': escape `\\` and `'`, and write every
    unprintable character as `\\uXXXX` (both read it; BigQuery rejects a raw newline in a literal)."""
    out = []
    for ch in text:
        if ch in _BACKSLASH_ESCAPES:
            out.append(_BACKSLASH_ESCAPES[ch])
        elif ord(ch) in _UNPRINTABLE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _double_quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backquoted(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _least_nulls_ignored(items: list[str]) -> str:
    """DuckDB's and Postgres' LEAST skip NULL arguments (NULL only when all are NULL)."""
    return "LEAST(" + ", ".join(items) + ")"


def _least_snowflake(items: list[str]) -> str:
    """Snowflake's LEAST is NULL as soon as one argument is; LEAST_IGNORE_NULLS (2024_03 bundle) is not."""
    return "LEAST_IGNORE_NULLS(" + ", ".join(items) + ")"


def _least_bigquery(items: list[str]) -> str:
    """BigQuery's LEAST is NULL as soon as one argument is; MIN over an array literal skips NULLs
    (an array holding NULLs is fine inside a query, only not in a result)."""
    return "(SELECT MIN(_as_x) FROM UNNEST([" + ", ".join(items) + "]) AS _as_x)"


@dataclass(frozen=True)
class Dialect:
    name: str
    string_literal: Callable[[str], str]
    """A SQL string literal holding the text exactly."""
    control_chars_as_chr: bool
    """Whether control characters must leave the literal as `|| chr(n) ||` (no backslash escapes in literals)."""
    add_hours: Callable[[str, int], str]
    """`ts + N hours` for a timestamp expression (windows are N x 24 hours, SPEC §3)."""
    least_ignore_nulls: Callable[[list[str]], str]
    """The smallest non-NULL argument; NULL only when every argument is NULL."""
    now: str
    """The current time as a naive UTC timestamp, comparable with the time columns (WindowClosed)."""
    quote_identifier: Callable[[str], str]
    cube_query_class: str
    """Cube's adapter for the dialect (@cubejs-backend/schema-compiler)."""
    cube_placeholders: str
    """How that adapter writes parameters: 'qmark' (`?`) or 'numeric' (`$1`, `$2`, ...)."""
    sqlglot: str
    """sqlglot's name for the dialect, for parse checks."""
    executable_on: tuple[str, ...]
    """Where `verify` can run this dialect's SQL: 'duckdb' (in memory) and/or 'postgres' (--database)."""


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect(
        name="duckdb",
        string_literal=_standard_literal,
        control_chars_as_chr=True,
        add_hours=lambda ts, h: f"{ts} + INTERVAL '{h} hours'",
        least_ignore_nulls=_least_nulls_ignored,
        # now() is a TIMESTAMPTZ; the cast gives the session time zone's wall clock, UTC under verify
        # (which Cube's DuckDB SQL needs anyway: it converts times with timezone('UTC', col::timestamptz)).
        now="CAST(now() AS TIMESTAMP)",
        quote_identifier=_double_quoted,
        cube_query_class="DuckDBQuery",
        cube_placeholders="qmark",
        sqlglot="duckdb",
        executable_on=("duckdb",),
    ),
    "postgres": Dialect(
        name="postgres",
        string_literal=_standard_literal,
        control_chars_as_chr=True,
        add_hours=lambda ts, h: f"{ts} + INTERVAL '{h} hours'",
        least_ignore_nulls=_least_nulls_ignored,
        # UTC whatever the session time zone (LOCALTIMESTAMP would follow the session's).
        now="(now() AT TIME ZONE 'UTC')",
        quote_identifier=_double_quoted,
        cube_query_class="PostgresQuery",
        cube_placeholders="numeric",
        sqlglot="postgres",
        executable_on=("postgres", "duckdb"),
    ),
    "snowflake": Dialect(
        name="snowflake",
        string_literal=_backslash_literal,
        control_chars_as_chr=False,
        add_hours=lambda ts, h: f"DATEADD(hour, {h}, {ts})",
        least_ignore_nulls=_least_snowflake,
        # SYSDATE() is TIMESTAMP_NTZ in UTC; CURRENT_TIMESTAMP()::TIMESTAMP_NTZ would follow the session zone.
        now="SYSDATE()",
        quote_identifier=_double_quoted,
        cube_query_class="SnowflakeQuery",
        cube_placeholders="qmark",
        sqlglot="snowflake",
        executable_on=(),
    ),
    "bigquery": Dialect(
        name="bigquery",
        string_literal=_backslash_literal,
        control_chars_as_chr=False,
        # TIMESTAMP_ADD takes a TIMESTAMP (Cube's BigqueryQuery also reads time dimensions as TIMESTAMP).
        add_hours=lambda ts, h: f"TIMESTAMP_ADD({ts}, INTERVAL {h} HOUR)",
        least_ignore_nulls=_least_bigquery,
        now="CURRENT_TIMESTAMP()",
        quote_identifier=_backquoted,
        cube_query_class="BigqueryQuery",
        cube_placeholders="qmark",
        sqlglot="bigquery",
        executable_on=(),
    ),
}
