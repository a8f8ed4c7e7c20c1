"""The accounts cube's SQL: one pass over the logs folded to one row per account.

Each milestone's first completion is a MIN per account in a single GROUP BY over the logs (no join to the
accounts, no DISTINCT). A window only needs that first completion: some log falls inside `created_at + N days`
iff the earliest one does, since the window has no lower bound. Every per-set column is then plain
row arithmetic, so the cube's measures are filtered counts over one row per account: additive and
servable from a rollup.

The logs are narrowed to the definition's milestone values by joining a literal table of them (value, index)
rather than by a WHERE filter, and each MIN tests that small integer index instead of comparing strings once
per row and milestone (benchmarks/README.md has the measurements). A WHERE on the logs scan would also stop
DuckDB's join elimination, which can drop the whole aggregation from a query that reads no activation column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from activation_semantic.definition import Definition
from activation_semantic.dialects import DIALECTS, Dialect
from activation_semantic.members import Members

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_PARAM_MARK = re.compile(r"(?<=\$)(?=\d)")


def literal(text: str, dialect: Dialect) -> str:
    """A SQL string literal holding `text` exactly.

    Control characters become chr() in dialects without backslash escapes, so the SQL stays printable;
    a `$` is never followed by a digit inside one literal, because Cube reads `$0$` as a parameter.
    """
    pieces: list[str] = []
    for chunk in _PARAM_MARK.split(text):
        if dialect.control_chars_as_chr and _CONTROL.search(chunk):
            last = 0
            for m in _CONTROL.finditer(chunk):
                if m.start() > last:
                    pieces.append(dialect.string_literal(chunk[last : m.start()]))
                pieces.append(f"chr({ord(m.group())})")
                last = m.end()
            if last < len(chunk):
                pieces.append(dialect.string_literal(chunk[last:]))
        else:
            pieces.append(dialect.string_literal(chunk))
    return pieces[0] if len(pieces) == 1 else "(" + " || ".join(pieces) + ")"


@dataclass(frozen=True)
class Columns:
    """Names of the per-account columns the fold adds to every accounts row."""

    @staticmethod
    def first(i: int, j: int) -> str:
        return f"_as_s{i}_m{j}"

    @staticmethod
    def completed(i: int) -> str:
        return f"_as_s{i}_completed"

    @staticmethod
    def activated_at(i: int) -> str:
        return f"_as_s{i}_activated_at"

    @staticmethod
    def users(i: int) -> str:
        return f"_as_s{i}_users"

    @staticmethod
    def dimension(name: str) -> str:
        return f"_as_d_{name.lower()}"


def source(table: str | None, query: str | None) -> str:
    return table if table is not None else "(\n" + query.strip() + "\n)"  # type: ignore[union-attr]


def is_column(expr: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", expr.strip()) is not None


def window_end(dialect: Dialect, created_at: str, days: int) -> str:
    return dialect.add_hours(created_at, days * 24)


def _least(dialect: Dialect, items: list[str]) -> str:
    return items[0] if len(items) == 1 else dialect.least_ignore_nulls(items)


def _activated_at(dialect: Dialect, times: list[str], required: int) -> str:
    if len(times) == 1:
        return times[0]
    if required == len(times):
        present = " AND ".join(f"{t} IS NOT NULL" for t in times)
        return f"CASE WHEN {present} THEN GREATEST({', '.join(times)}) END"
    if required == 1:
        return _least(dialect, times)
    # the required-th order statistic: the earliest time t_i with at least `required` times <= t_i
    candidates = []
    for t in times:
        at_or_before = " + ".join(f"CASE WHEN {u} <= {t} THEN 1 ELSE 0 END" for u in times)
        candidates.append(f"CASE WHEN {t} IS NOT NULL AND ({at_or_before}) >= {required} THEN {t} END")
    return _least(dialect, candidates)


def accounts_sql(d: Definition, members: Members) -> str:
    dialect = DIALECTS[d.dialect]
    acc, logs = d.accounts, d.milestone_logs
    values: list[str] = []
    for s in d.milestone_sets:
        for m in s.milestones:
            if m.value not in values:
                values.append(m.value)
    pivot = {v: f"_as_v{n}" for n, v in enumerate(values)}
    lit = {v: literal(v, dialect) for v in values}
    pk, created = f"a.{acc.primary_key}", f"a.{acc.created_at}"

    inner: list[str] = ["a.*"]
    for dim in acc.dimensions:
        if not is_column(dim.sql):
            inner.append(f"({dim.sql.strip()}) AS {Columns.dimension(dim.name)}")
    for sm in members.sets:
        s = sm.spec
        for j, m in enumerate(s.milestones):
            first = f"p.{pivot[m.value]}"
            if s.within_days is None:
                expr = first
            else:
                expr = f"CASE WHEN {first} < {window_end(dialect, created, s.within_days)} THEN {first} END"
            inner.append(f"{expr} AS {Columns.first(sm.index, j)}")

    # The milestone values as a literal table joined to the logs (see the module docstring).
    index = {v: n for n, v in enumerate(values)}
    value_rows = [f"SELECT {index[v]} AS _as_i, {lit[v]} AS _as_value" if index[v] == 0 else f"SELECT {index[v]}, {lit[v]}"
                  for v in values]
    value_join = ("\n    JOIN (\n      " + "\n      UNION ALL ".join(value_rows)
                  + f"\n    ) AS v ON v._as_value = l.{logs.milestone}")
    pivot_cols = [f"l.{logs.account_id} AS _as_account_id"]
    for v in values:
        pivot_cols.append(f"MIN(CASE WHEN v._as_i = {index[v]} THEN l.{logs.completed_at} END) AS {pivot[v]}")
    logs_src = source(logs.sql_table, logs.sql)
    joins = [
        "LEFT JOIN (\n    SELECT\n      " + ",\n      ".join(pivot_cols) + f"\n    FROM {logs_src} AS l" + value_join
        + f"\n    GROUP BY l.{logs.account_id}\n  ) AS p ON p._as_account_id = {pk}"
    ]
    users_join = ""
    if logs.user_id:
        windowed = any(s.within_days is not None for s in d.milestone_sets)
        user_cols = [f"l.{logs.account_id} AS _as_account_id"]
        for sm in members.sets:
            s = sm.spec
            ids = sorted({index[m.value] for m in s.milestones})
            conds = []
            if len(ids) < len(values):  # the join to v already keeps only this set's values otherwise
                conds.append(f"v._as_i = {ids[0]}" if len(ids) == 1 else f"v._as_i IN ({', '.join(map(str, ids))})")
            if s.within_days is not None:
                conds.append(f"l.{logs.completed_at} < {window_end(dialect, 'w.' + acc.created_at, s.within_days)}")
            else:
                conds.append(f"l.{logs.completed_at} IS NOT NULL")
            user_cols.append(f"COUNT(DISTINCT CASE WHEN {' AND '.join(conds)} THEN l.{logs.user_id} END)"
                             f" AS {Columns.users(sm.index)}")
        join_accounts = ""
        if windowed:
            join_accounts = (f"\n    JOIN {source(acc.sql_table, acc.sql)} AS w"
                             f" ON w.{acc.primary_key} = l.{logs.account_id}")
        # Joined at the outer level, where DuckDB drops the whole aggregation from queries that do not read
        # it (nested next to the pivot join it is always computed); no WHERE on the logs either.
        users_join = (
            "\nLEFT JOIN (\n  SELECT\n    " + ",\n    ".join(user_cols) + f"\n  FROM {logs_src} AS l"
            + value_join.replace("\n    ", "\n  ").replace("\n      ", "\n    ") + join_accounts.replace("\n    ", "\n  ")
            + f"\n  GROUP BY l.{logs.account_id}\n) AS u ON u._as_account_id = s.{acc.primary_key}"
        )

    outer: list[str] = ["s.*"]
    for sm in members.sets:
        if logs.user_id:
            outer.append(f"COALESCE(u.{Columns.users(sm.index)}, 0) AS {Columns.users(sm.index)}")
        times = [f"s.{Columns.first(sm.index, j)}" for j in range(len(sm.spec.milestones))]
        completed = " + ".join(f"CASE WHEN {t} IS NOT NULL THEN 1 ELSE 0 END" for t in times)
        outer.append(f"({completed}) AS {Columns.completed(sm.index)}")
        outer.append(f"{_activated_at(dialect, times, sm.required)} AS {Columns.activated_at(sm.index)}")

    acc_src = source(acc.sql_table, acc.sql)
    return (
        "SELECT\n  " + ",\n  ".join(outer) + "\nFROM (\n  SELECT\n    " + ",\n    ".join(inner)
        + f"\n  FROM {acc_src} AS a\n  " + "\n  ".join(joins)
        + f"\n  WHERE {pk} IS NOT NULL\n) AS s" + users_join
    )
