"""Plan a Cube query over the generated model files as DuckDB SQL, the way Cube would for one cube."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from activation_semantic.cube_model import Cube, CubeModel, Dimension, Measure, Ref, Segment, Sql
from activation_semantic.cube_query import Member, QueryError, check_shape, output_key, resolve
from activation_semantic.naming import snake_case


class Unsupported(Exception):
    """A query the builtin engine will not guess at (e.g. fan-out across a one_to_many join)."""


@dataclass(frozen=True)
class Planned:
    sql: str
    params: list[Any]
    columns: list[str]


_AGG = {"count": "count", "countDistinct": "count(DISTINCT", "sum": "sum", "avg": "avg", "min": "min", "max": "max"}
_KNOWN_OPERATORS = {"equals", "notEquals", "set", "notSet", "gt", "gte", "lt", "lte", "contains", "notContains",
                    "startsWith", "endsWith", "inDateRange", "notInDateRange", "beforeDate", "afterDate",
                    "beforeOrOnDate", "afterOrOnDate"}
_CUBE_ONLY_OPERATORS = {"notStartsWith", "notEndsWith", "measureFilter"}
_CAST = {"number": "DOUBLE PRECISION", "time": "TIMESTAMP", "boolean": "BOOLEAN", "string": "VARCHAR"}


def _alias(cube: Cube) -> str:
    return '"' + snake_case(cube.name) + '"'


class _Renderer:
    def __init__(self, model: CubeModel) -> None:
        self.model = model

    def expr(self, cube: Cube, parts: Sql, depth: int = 0) -> str:
        if depth > 20:
            raise QueryError(f"member references in cube {cube.name} loop")
        out = []
        for p in parts:
            if not isinstance(p, Ref):
                out.append(p)
                continue
            path = p.path
            if path == ("CUBE",):
                out.append(_alias(cube))
            elif len(path) == 1 and cube.member(path[0]) is not None:
                out.append("(" + self.member_sql(cube, cube.member(path[0]), depth + 1) + ")")  # type: ignore[arg-type]
            elif len(path) == 1:
                out.append(_alias(self.model.cube(path[0])))
            else:
                other = self.model.cube(path[0])
                if path[1:] == ("CUBE",) or len(path) != 2:
                    out.append(_alias(other))
                else:
                    member = other.member(path[1])
                    if member is None:
                        raise QueryError(f"{cube.name} refers to unknown member {'.'.join(path)}")
                    out.append("(" + self.member_sql(other, member, depth + 1) + ")")
        return "".join(out)

    def member_sql(self, cube: Cube, member: Measure | Dimension | Segment, depth: int = 0) -> str:
        if isinstance(member, Measure):
            return self.measure(cube, member, depth)
        return self.expr(cube, member.sql, depth)

    def measure(self, cube: Cube, m: Measure, depth: int = 0) -> str:
        if m.type == "number":
            return self.expr(cube, m.sql or ("NULL",), depth)
        if m.type not in _AGG:
            raise Unsupported(f"measure type {m.type!r} of {cube.name}.{m.name}")
        arg = self.expr(cube, m.sql, depth) if m.sql else ("*" if m.type == "count" else "NULL")
        if m.filters:
            cond = " AND ".join("(" + self.expr(cube, f, depth) + ")" for f in m.filters)
            arg = f"CASE WHEN {cond} THEN {arg if arg != '*' else 1} END"
        fn = _AGG[m.type]
        return f"{fn} {arg})" if fn.endswith("DISTINCT") else f"{fn}({arg})"


def _day_bounds(value: str, end: bool) -> datetime:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            start = datetime.fromisoformat(value)
            return start + timedelta(days=1, microseconds=-1000) if end else start
        return datetime.fromisoformat(value.replace("Z", ""))
    except ValueError:
        raise Unsupported(f"date {value!r} (only ISO dates and timestamps are supported)") from None


def plan(model: CubeModel, query: Any) -> Planned:
    query = check_shape(query)
    r = _Renderer(model)
    measures = [resolve(model, m, (Measure,)) for m in query.get("measures", [])]
    dims = [resolve(model, d, (Dimension,)) for d in query.get("dimensions", [])]
    segments = [resolve(model, s, (Segment,)) for s in query.get("segments", [])]
    tds = [(resolve(model, td["dimension"], (Dimension,)), td) for td in query.get("timeDimensions", [])]
    filter_members = _filter_members(model, query.get("filters", []))
    used = {m.cube.name for m in measures + dims + segments + [t[0] for t in tds] + filter_members}
    if not used:
        raise QueryError("the query selects nothing: add measures or dimensions")
    if len(used) > 1:
        raise Unsupported(f"queries across cubes ({', '.join(sorted(used))}) need Cube's join planning; "
                          "use --engine cube")
    cube = model.cube(used.pop())
    source = "(\n" + r.expr(cube, cube.sql) + "\n)" if cube.sql is not None else cube.sql_table
    select: list[str] = []
    columns: list[str] = []
    group: list[str] = []
    params: list[Any] = []
    for d in dims:
        select.append(r.member_sql(cube, d.member))
        columns.append(d.key)
    where: list[str] = []
    for member, td in tds:
        expr = r.member_sql(cube, member.member)
        gran = td.get("granularity")
        if gran:
            select.append(f"date_trunc('{gran}', {expr})")
            columns.append(output_key(member.key, gran))
        date_range = td.get("dateRange")
        if date_range is not None:
            if isinstance(date_range, str):
                date_range = [date_range, date_range]
            if not isinstance(date_range, list) or len(date_range) != 2:
                raise Unsupported(f"dateRange {date_range!r} (use [from, to] ISO dates)")
            where.append(f"{expr} >= ? AND {expr} <= ?")
            params += [_day_bounds(str(date_range[0]), False), _day_bounds(str(date_range[1]), True)]
    group = [str(i + 1) for i in range(len(select))]
    for m in measures:
        select.append(r.member_sql(cube, m.member))
        columns.append(m.key)
    for s in segments:
        where.append("(" + r.member_sql(cube, s.member) + ")")
    having: list[str] = []
    for f in query.get("filters", []):
        target, sql_text, p = _filter(model, r, f)
        (having if target == "having" else where).append(sql_text)
        params += p
    if not select:
        raise QueryError("the query selects nothing: add measures or dimensions")
    text = "SELECT\n  " + ",\n  ".join(f'{s} AS "{c}"' for s, c in zip(select, columns, strict=True))
    text += f"\nFROM {source} AS {_alias(cube)}"
    if where:
        text += "\nWHERE " + " AND ".join(where)
    if group:
        text += "\nGROUP BY " + ", ".join(group)
    if having:
        text += "\nHAVING " + " AND ".join(having)
    order = _order(query.get("order"), columns, query)
    if order:
        text += "\nORDER BY " + ", ".join(order)
    if query.get("limit") is not None:
        text += f"\nLIMIT {int(query['limit'])}"
    if query.get("offset"):
        text += f"\nOFFSET {int(query['offset'])}"
    return Planned(text, params, columns)


def _default_order(query: dict[str, Any]) -> list[tuple[str, str]]:
    """Cube's order when the query gives none (it decides which rows a `limit` keeps)."""
    for td in query.get("timeDimensions", []):
        if td.get("granularity"):
            return [(td["dimension"], "asc")]
    if query.get("measures"):
        return [(query["measures"][0], "desc")]
    if query.get("dimensions"):
        return [(query["dimensions"][0], "asc")]
    return []


def _order(order: Any, columns: list[str], query: dict[str, Any]) -> list[str]:
    if not order:
        order = _default_order(query)
    if not order:
        return []
    pairs = list(order.items()) if isinstance(order, dict) else [tuple(p) for p in order]
    out = []
    for member, direction in pairs:
        direction = str(direction).lower()
        if direction not in ("asc", "desc"):
            raise QueryError(f"order direction {direction!r} for {member} (use asc or desc)")
        matches = [c for c in columns if c == member or c.rsplit(".", 1)[0] == member]
        if not matches:
            raise QueryError(f"order by {member}: the query does not select it")
        out.append(f'"{matches[0]}" {direction.upper()} NULLS LAST')
    return out


def _filter_members(model: CubeModel, filters: list[Any]) -> list[Member]:
    out = []
    for f in filters:
        if not isinstance(f, dict):
            raise QueryError(f"a filter is a mapping, got {f!r}")
        if "and" in f or "or" in f:
            out += _filter_members(model, f.get("and") or f.get("or") or [])
        else:
            out.append(resolve(model, f.get("member") or f.get("dimension"), (Measure, Dimension)))
    return out


def _filter(model: CubeModel, r: _Renderer, f: dict[str, Any]) -> tuple[str, str, list[Any]]:
    for group in ("and", "or"):
        if group in f:
            parts = [_filter(model, r, x) for x in f[group]]
            targets = {p[0] for p in parts}
            if len(targets) > 1:
                raise Unsupported("an and/or filter group mixing measures and dimensions")
            joined = f" {group.upper()} ".join(f"({p[1]})" for p in parts)
            return targets.pop() if targets else "where", joined or "TRUE", [x for p in parts for x in p[2]]
    member = resolve(model, f.get("member") or f.get("dimension"), (Measure, Dimension))
    op = f.get("operator")
    values = f.get("values", [])
    if not isinstance(values, list):
        raise QueryError(f"filter on {member.key}: values must be a list")
    expr = r.member_sql(member.cube, member.member)
    kind = member.member.type if isinstance(member.member, Dimension) else "number"
    cast = _CAST.get(kind, "VARCHAR")
    target = "having" if isinstance(member.member, Measure) else "where"

    def ph(n: int) -> str:
        return ", ".join([f"CAST(? AS {cast})"] * n)

    vals: list[Any] = [None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for v in values]
    if op in ("equals", "notEquals") and not vals:
        raise QueryError(f"filter {op} on {member.key} needs values")
    if op == "equals":
        return target, f"{expr} IN ({ph(len(vals))})", vals
    if op == "notEquals":
        return target, f"({expr} NOT IN ({ph(len(vals))}) OR {expr} IS NULL)", vals
    if op == "set":
        return target, f"{expr} IS NOT NULL", []
    if op == "notSet":
        return target, f"{expr} IS NULL", []
    if op in ("gt", "gte", "lt", "lte"):
        if len(vals) != 1:
            raise QueryError(f"filter {op} on {member.key} takes one value")
        sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return target, f"{expr} {sym} {ph(1)}", vals
    if op in ("contains", "notContains", "startsWith", "endsWith"):
        pattern = {"contains": "'%' || ? || '%'", "notContains": "'%' || ? || '%'",
                   "startsWith": "? || '%'", "endsWith": "'%' || ?"}[op]
        any_of = " OR ".join(f"{expr} ILIKE {pattern}" for _ in vals) or "FALSE"
        sql_text = f"NOT ({any_of}) OR {expr} IS NULL" if op == "notContains" else any_of
        return target, sql_text, vals
    if op in ("inDateRange", "notInDateRange"):
        if len(vals) != 2:
            raise QueryError(f"filter {op} on {member.key} takes [from, to]")
        lo, hi = _day_bounds(vals[0], False), _day_bounds(vals[1], True)
        sql_text = f"{expr} >= ? AND {expr} <= ?"
        if op == "notInDateRange":
            sql_text = f"NOT ({sql_text}) OR {expr} IS NULL"
        return target, sql_text, [lo, hi]
    if op in ("beforeDate", "afterDate", "beforeOrOnDate", "afterOrOnDate"):
        if len(vals) != 1:
            raise QueryError(f"filter {op} on {member.key} takes one date")
        sym = {"beforeDate": "<", "afterDate": ">", "beforeOrOnDate": "<=", "afterOrOnDate": ">="}[op]
        return target, f"{expr} {sym} ?", [_day_bounds(vals[0], False)]
    if op in _CUBE_ONLY_OPERATORS:
        raise Unsupported(f"filter operator {op!r}")
    raise QueryError(f"unknown filter operator {op!r} on {member.key}; Cube's operators are "
                     + ", ".join(sorted(_KNOWN_OPERATORS | _CUBE_ONLY_OPERATORS)))
