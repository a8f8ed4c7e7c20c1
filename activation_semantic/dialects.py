"""Everything warehouse-specific in the generated SQL, one row per dialect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _standard_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _backslash_literal(text: str) -> str:
    """Snowflake and BigQuery read backslash escapes inside string literals."""
    out = text.replace("\\", "\\\\").replace("'", "\\'")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return "'" + out + "'"


def _least_bigquery(items: list[str]) -> str:
    return "(SELECT MIN(_as_x) FROM UNNEST([" + ", ".join(items) + "]) AS _as_x)"


@dataclass(frozen=True)
class Dialect:
    name: str
    string_literal: Callable[[str], str]
    add_hours: Callable[[str, int], str]
    least_ignore_nulls: Callable[[list[str]], str]
    now: str
    cube_query_class: str


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect(
        name="duckdb",
        string_literal=_standard_literal,
        add_hours=lambda ts, h: f"{ts} + INTERVAL '{h} hours'",
        least_ignore_nulls=lambda items: "LEAST(" + ", ".join(items) + ")",
        now="CAST(now() AS TIMESTAMP)",
        cube_query_class="DuckDBQuery",
    ),
    "postgres": Dialect(
        name="postgres",
        string_literal=_standard_literal,
        add_hours=lambda ts, h: f"{ts} + INTERVAL '{h} hours'",
        least_ignore_nulls=lambda items: "LEAST(" + ", ".join(items) + ")",
        now="LOCALTIMESTAMP",
        cube_query_class="PostgresQuery",
    ),
    "snowflake": Dialect(
        name="snowflake",
        string_literal=_backslash_literal,
        add_hours=lambda ts, h: f"DATEADD(hour, {h}, {ts})",
        least_ignore_nulls=lambda items: "LEAST_IGNORE_NULLS(" + ", ".join(items) + ")",
        now="CURRENT_TIMESTAMP()::TIMESTAMP_NTZ",
        cube_query_class="SnowflakeQuery",
    ),
    "bigquery": Dialect(
        name="bigquery",
        string_literal=_backslash_literal,
        add_hours=lambda ts, h: f"TIMESTAMP_ADD({ts}, INTERVAL {h} HOUR)",
        least_ignore_nulls=_least_bigquery,
        now="CURRENT_TIMESTAMP()",
        cube_query_class="BigqueryQuery",
    ),
}
