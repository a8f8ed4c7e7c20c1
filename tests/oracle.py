"""An independent oracle for activation-semantic, written straight from SPEC.md §3.

Plain Python over in-memory rows: no DuckDB, no SQL, nothing imported from
``activation_semantic``. It answers Cube REST query objects the way the generated Cube model
must answer them, so tests can compare the tool's numbers with numbers computed a second,
independent way.

    normalize(defn)                      -> the definition with every SPEC default applied
    answer(defn, tables, query, now=None) -> list of result rows keyed like Cube's REST API

``tables`` maps a table name (``sql_table``) to a list of dict rows holding Python values
(``datetime`` for times, ``None`` for NULL). ``now`` (a naive ``datetime``) is what
``{s}WindowClosed`` and the ``{s}Mature`` segment compare against; it defaults to the current
UTC time.

Choices where the SPEC defers to Cube (mirroring Cube's BaseFilter / BaseQuery):
- ``equals`` with several values is ``IN``; ``notEquals`` / ``notContains`` keep NULLs
  (``x <> v OR x IS NULL``); ``contains`` / ``startsWith`` / ``endsWith`` are case-insensitive.
- date operators: a date-only ``from`` is that day's midnight, a date-only ``to`` the last
  microsecond of that day; ``beforeDate`` is ``x < from(v0)``, ``afterDate`` is ``x > from(v0)``.
- with no ``order`` key Cube's default order applies (first time dimension with a granularity
  ascending, else first measure descending, else first dimension ascending); NULLs sort last in
  both directions (DuckDB's default).
- a query mixing Accounts members with MilestoneCompletionLogs members raises ``Unsupported``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

__all__ = ["Unsupported", "answer", "derive_key", "member_name", "normalize"]


class Unsupported(Exception):
    """The oracle does not evaluate this (kind of) query or definition."""


# --------------------------------------------------------------------------------------------
# Definition defaults
# --------------------------------------------------------------------------------------------


def derive_key(value: str, position: int) -> str:
    """Member-name key of a milestone value (SPEC §2 default), `position` is 1-based."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    key = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    if not key:
        return f"milestone_{position}"
    if key[0].isdigit():
        key = "m_" + key
    return key


def _get(mapping: dict, key: str, default: Any) -> Any:
    value = mapping.get(key)
    return default if value is None else value


def normalize(defn: dict) -> dict:
    """Apply the SPEC §2 defaults to a raw definition mapping (idempotent)."""
    if not isinstance(defn, dict):
        raise ValueError("a definition is a mapping")
    acc = dict(defn.get("accounts") or {})
    logs = dict(defn.get("milestone_logs") or {})
    sets_in = defn.get("milestone_sets") or []
    if not sets_in:
        raise ValueError("milestone_sets: at least one set is required")

    dimensions = []
    for dim in acc.get("dimensions") or []:
        dimensions.append(
            {
                "name": dim["name"],
                "sql": _get(dim, "sql", dim["name"]),
                "type": _get(dim, "type", "string"),
                "title": dim.get("title"),
            }
        )

    sets = []
    for s in sets_in:
        milestones = []
        for i, m in enumerate(s.get("milestones") or [], start=1):
            if isinstance(m, dict):
                value = m["value"]
                key = m.get("key")
                title = m.get("title")
            else:
                value, key, title = m, None, None
            if not isinstance(value, str):
                raise ValueError(f"milestone value {value!r} is not a string")
            milestones.append({"value": value, "key": key or derive_key(value, i), "title": title})
        if not milestones:
            raise ValueError(f"milestone set {s.get('name')!r} has no milestones")
        require = _get(s, "require", "all")
        if require == "all":
            required = len(milestones)
        elif require == "any":
            required = 1
        elif isinstance(require, int) and not isinstance(require, bool) and 1 <= require <= len(milestones):
            required = require
        else:
            raise ValueError(f"milestone set {s.get('name')!r}: bad require {require!r}")
        within = s.get("within_days")
        if within is not None and (not isinstance(within, int) or isinstance(within, bool) or within < 1):
            raise ValueError(f"milestone set {s.get('name')!r}: bad within_days {within!r}")
        sets.append(
            {
                "name": s["name"],
                "title": s.get("title"),
                "milestones": milestones,
                "require": require,
                "required": required,
                "within_days": within,
            }
        )

    naming = _get(defn, "naming", "camel")
    if naming not in ("camel", "snake"):
        raise ValueError(f"naming: {naming!r}")
    scale = _get(defn, "percent_scale", 100)
    if scale not in (1, 100):
        raise ValueError(f"percent_scale: {scale!r}")
    return {
        "version": defn.get("version"),
        "name": defn.get("name"),
        "description": defn.get("description"),
        "dialect": _get(defn, "dialect", "duckdb"),
        "naming": naming,
        "percent_scale": scale,
        "pre_aggregations": bool(defn.get("pre_aggregations", False)),
        "accounts": {
            "cube": _get(acc, "cube", "Accounts"),
            "sql_table": acc.get("sql_table"),
            "sql": acc.get("sql"),
            "primary_key": _get(acc, "primary_key", "id"),
            "created_at": _get(acc, "created_at", "created_at"),
            "dimensions": dimensions,
        },
        "milestone_logs": {
            "cube": _get(logs, "cube", "MilestoneCompletionLogs"),
            "sql_table": logs.get("sql_table"),
            "sql": logs.get("sql"),
            "primary_key": _get(logs, "primary_key", "id"),
            "account_id": _get(logs, "account_id", "account_id"),
            "milestone": _get(logs, "milestone", "milestone_name"),
            "completed_at": _get(logs, "completed_at", "completion_date"),
            "user_id": logs.get("user_id"),
        },
        "milestone_sets": sets,
    }


# --------------------------------------------------------------------------------------------
# Member names (SPEC §4)
# --------------------------------------------------------------------------------------------


def _words(ident: str) -> list[str]:
    out = []
    for part in ident.split("_"):
        if part:
            out.extend(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", part).split("_"))
    return out


def member_name(naming: str, *parts: str) -> str:
    """`member_name('camel', 'free_trial', 'create_workspace', 'accounts')` ->
    `freeTrialCreateWorkspaceAccounts`; with 'snake' -> `free_trial_create_workspace_accounts`."""
    words = [w for p in parts for w in _words(p)]
    if naming == "snake":
        return "_".join(w.lower() for w in words)
    first, rest = words[0], words[1:]
    return first[:1].lower() + first[1:] + "".join(w[:1].upper() + w[1:] for w in rest)


# --------------------------------------------------------------------------------------------
# Values, types, times
# --------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return _naive_utc(parsed) if parsed.tzinfo is not None else parsed


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _range_from(value: Any) -> datetime:
    return _parse_time(value)


def _range_to(value: Any) -> datetime:
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        d = date.fromisoformat(value.strip())
        return datetime(d.year, d.month, d.day, 23, 59, 59, 999999)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, 23, 59, 59, 999999)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.999$", value.strip()):
        return _parse_time(value.strip() + "999")
    return _parse_time(value)


def _as_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "t", "1", "yes"):
        return True
    if text in ("false", "f", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _as_number(value: Any) -> float | int | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def _coerce(value: Any, typ: str) -> Any:
    """A stored value as a Cube dimension of type `typ` reports it."""
    if value is None:
        return None
    if typ == "time":
        return _parse_time(value)
    if typ == "number":
        return _as_number(value)
    if typ == "boolean":
        return _as_bool(value)
    return value


def _truncate(value: datetime | None, granularity: str) -> datetime | None:
    if value is None:
        return None
    if granularity == "second":
        return value.replace(microsecond=0)
    if granularity == "minute":
        return value.replace(second=0, microsecond=0)
    if granularity == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # ISO week, Monday
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if granularity == "year":
        return day.replace(month=1, day=1)
    raise Unsupported(f"granularity {granularity!r}")


def _column(sql: str) -> str:
    """The column a member's `sql` reads; only plain columns are evaluated."""
    text = sql.strip()
    m = re.fullmatch(r"(?:\$?\{CUBE\}\.)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?", text)
    if not m:
        raise Unsupported(f"SQL expression {sql!r} (the oracle reads plain columns only)")
    return m.group(1)


def _source_rows(source: dict, tables: dict) -> list[dict]:
    name = source.get("sql_table")
    if name is None:
        sql = source.get("sql") or ""
        m = re.fullmatch(r"\s*select\s+\*\s+from\s+([A-Za-z_][A-Za-z0-9_.]*)\s*;?\s*", sql, re.IGNORECASE)
        if not m:
            raise Unsupported(f"source SQL {sql!r}")
        name = m.group(1)
    if name in tables:
        return tables[name]
    short = name.split(".")[-1]
    if short in tables:
        return tables[short]
    raise KeyError(f"no rows for table {name!r}")


# --------------------------------------------------------------------------------------------
# §3: per-account progress
# --------------------------------------------------------------------------------------------


def _progress(nd: dict, account: dict, logs: list[dict], now: datetime) -> dict:
    """Per set: first qualifying completion of each milestone, count, activation, users."""
    acc_cfg, log_cfg = nd["accounts"], nd["milestone_logs"]
    created = _parse_time(account.get(acc_cfg["created_at"]))
    out = {}
    for s in nd["milestone_sets"]:
        by_value = {m["value"]: m["key"] for m in s["milestones"]}
        n = s["within_days"]
        first: dict[str, datetime] = {}
        users = set()
        for log in logs:
            key = by_value.get(log.get(log_cfg["milestone"]))  # exact, case-sensitive
            if key is None:
                continue
            at = _parse_time(log.get(log_cfg["completed_at"]))
            if at is None:
                continue
            if n is not None and (created is None or not at < created + timedelta(days=n)):
                continue
            if key not in first or at < first[key]:
                first[key] = at
            if log_cfg["user_id"] is not None and log.get(log_cfg["user_id"]) is not None:
                users.add(log.get(log_cfg["user_id"]))
        completed = len(first)
        activated = completed >= s["required"]
        activated_at = sorted(first.values())[s["required"] - 1] if activated else None
        window_closed = None if n is None or created is None else created + timedelta(days=n) <= now
        out[s["name"]] = {
            "first": first,
            "completed": completed,
            "activated": activated,
            "activated_at": activated_at,
            "window_closed": window_closed,
            "users": len(users),
        }
    return out


# --------------------------------------------------------------------------------------------
# The members of the generated model
# --------------------------------------------------------------------------------------------


class _Members:
    """name -> evaluator, for both cubes."""

    def __init__(self, nd: dict):
        naming = nd["naming"]
        scale = nd["percent_scale"]
        acc_cfg, log_cfg = nd["accounts"], nd["milestone_logs"]
        a, lc = acc_cfg["cube"], log_cfg["cube"]
        self.acc_cube, self.log_cube = a, lc
        primary = nd["milestone_sets"][0]["name"]

        def nm(*parts: str) -> str:
            return member_name(naming, *parts)

        def pct(num: int, total: int) -> float | None:
            return None if total == 0 else scale * num / total

        # Accounts measures: fn(list of account records) -> value
        am: dict[str, Callable[[list[dict]], Any]] = {}
        am[f"{a}.{nm('total_accounts')}"] = len
        am[f"{a}.{nm('qualified_accounts')}"] = lambda g: sum(r["p"][primary]["activated"] for r in g)
        am[f"{a}.{nm('percent_qualified')}"] = lambda g: pct(sum(r["p"][primary]["activated"] for r in g), len(g))
        # Accounts dimensions: name -> (type, fn(record))
        ad: dict[str, tuple[str, Callable[[dict], Any]]] = {}
        pk_col, created_col = acc_cfg["primary_key"], acc_cfg["created_at"]
        ad[f"{a}.id"] = ("string", lambda r: r["row"].get(pk_col))
        ad[f"{a}.{nm('created_at')}"] = ("time", lambda r: _parse_time(r["row"].get(created_col)))
        for dim in acc_cfg["dimensions"]:
            col, typ = _column(dim["sql"]), dim["type"]
            ad[f"{a}.{dim['name']}"] = (typ, lambda r, col=col, typ=typ: _coerce(r["row"].get(col), typ))
        # Accounts segments: name -> predicate(record)
        sg: dict[str, Callable[[dict], bool]] = {}
        sg[f"{a}.{nm('qualified')}"] = lambda r: r["p"][primary]["activated"]

        for s in nd["milestone_sets"]:
            sn = s["name"]
            am[f"{a}.{nm(sn, 'qualified_accounts')}"] = lambda g, sn=sn: sum(r["p"][sn]["activated"] for r in g)
            am[f"{a}.{nm(sn, 'percent_qualified')}"] = lambda g, sn=sn: pct(sum(r["p"][sn]["activated"] for r in g), len(g))
            for m in s["milestones"]:
                k = m["key"]
                am[f"{a}.{nm(sn, k, 'accounts')}"] = lambda g, sn=sn, k=k: sum(k in r["p"][sn]["first"] for r in g)
                am[f"{a}.{nm(sn, k, 'percent')}"] = lambda g, sn=sn, k=k: pct(
                    sum(k in r["p"][sn]["first"] for r in g), len(g)
                )
            ad[f"{a}.{nm(sn, 'milestones_completed')}"] = ("number", lambda r, sn=sn: r["p"][sn]["completed"])
            ad[f"{a}.{nm(sn, 'activated')}"] = ("boolean", lambda r, sn=sn: r["p"][sn]["activated"])
            ad[f"{a}.{nm(sn, 'activated_at')}"] = ("time", lambda r, sn=sn: r["p"][sn]["activated_at"])
            sg[f"{a}.{nm(sn, 'qualified')}"] = lambda r, sn=sn: r["p"][sn]["activated"]
            if s["within_days"] is not None:
                ad[f"{a}.{nm(sn, 'window_closed')}"] = ("boolean", lambda r, sn=sn: r["p"][sn]["window_closed"])
                sg[f"{a}.{nm(sn, 'mature')}"] = lambda r, sn=sn: r["p"][sn]["window_closed"] is True
            if log_cfg["user_id"] is not None:
                ad[f"{a}.{nm(sn, 'contributing_users')}"] = ("number", lambda r, sn=sn: r["p"][sn]["users"])

        # MilestoneCompletionLogs: records are raw log rows
        lm: dict[str, Callable[[list[dict]], Any]] = {}
        lid = log_cfg["primary_key"]
        lm[f"{lc}.{nm('total_milestones_completed')}"] = lambda g: sum(r.get(lid) is not None for r in g)
        ld: dict[str, tuple[str, Callable[[dict], Any]]] = {}
        ld[f"{lc}.id"] = ("string", lambda r: r.get(lid))
        for parts, col, typ in (
            (("account_id",), log_cfg["account_id"], "string"),
            (("milestone_name",), log_cfg["milestone"], "string"),
            (("completion_date",), log_cfg["completed_at"], "time"),
            (("user_id",), log_cfg["user_id"], "string"),
        ):
            if col is not None:
                ld[f"{lc}.{nm(*parts)}"] = (typ, lambda r, col=col, typ=typ: _coerce(r.get(col), typ))

        self.acc = {"measures": am, "dimensions": ad, "segments": sg}
        self.log = {"measures": lm, "dimensions": ld, "segments": {}}

    def cube_of(self, member: str) -> str:
        for kind in ("measures", "dimensions", "segments"):
            if member in self.acc[kind]:
                return "acc"
            if member in self.log[kind]:
                return "log"
        raise ValueError(f"unknown member {member!r}")


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


def _filter_member(f: dict) -> str:
    member = f.get("member") or f.get("dimension") or f.get("measure")
    if member is None:
        raise ValueError(f"filter without member: {f!r}")
    return member


def _cmp_value(value: Any, typ: str) -> Any:
    """A filter value (Cube sends strings) as the type of the member it filters."""
    if value is None:
        return None
    if typ == "time":
        return _parse_time(value)
    if typ == "number":
        return _as_number(value)
    if typ == "boolean":
        return _as_bool(value)
    return str(value)


def _stored(value: Any, typ: str) -> Any:
    if value is None:
        return None
    if typ in ("time", "number", "boolean"):
        return _coerce(value, typ)
    return str(value)


def _test(op: str, x: Any, values: list, typ: str) -> bool:
    """Cube's BaseFilter semantics for one member value `x`."""
    values = list(values or [])
    has_null = any(v is None for v in values)
    x = _stored(x, typ)
    if op in ("set", "notSet"):
        return (x is not None) == (op == "set")
    if op in ("equals", "notEquals"):
        wanted = [_cmp_value(v, typ) for v in values if v is not None]
        if op == "equals":
            return x in wanted if x is not None else has_null
        return x not in wanted if x is not None else not has_null
    if op in ("contains", "notContains", "startsWith", "notStartsWith", "endsWith", "notEndsWith"):
        needles = [str(v).lower() for v in values if v is not None]
        negate = op.startswith("not")
        kind = op[3:].lower() if negate else op.lower()
        if x is None:
            return not has_null if negate else has_null
        s = str(x).lower()

        def hit(n: str) -> bool:
            if kind == "contains":
                return n in s
            if kind == "startswith":
                return s.startswith(n)
            return s.endswith(n)

        return all(not hit(n) for n in needles) if negate else any(hit(n) for n in needles)
    if op in ("gt", "gte", "lt", "lte"):
        if x is None or not values:
            return False
        v = _cmp_value(values[0], typ)
        return {"gt": x > v, "gte": x >= v, "lt": x < v, "lte": x <= v}[op]
    if op in ("inDateRange", "notInDateRange"):
        if x is None:
            return False
        lo, hi = _range_from(values[0]), _range_to(values[1])
        inside = lo <= x <= hi
        return inside if op == "inDateRange" else (x < lo or x > hi)
    if op in ("beforeDate", "beforeOrOnDate", "afterDate", "afterOrOnDate"):
        if x is None:
            return False
        t = _range_from(values[0])
        return {"beforeDate": x < t, "beforeOrOnDate": x <= t, "afterDate": x > t, "afterOrOnDate": x >= t}[op]
    raise Unsupported(f"filter operator {op!r}")


def _filter_members(f: dict) -> list[str]:
    if "and" in f or "or" in f:
        return [m for sub in (f.get("and") or f.get("or") or []) for m in _filter_members(sub)]
    return [_filter_member(f)]


def _eval_filter(f: dict, lookup: Callable[[str], tuple[str, Any]]) -> bool:
    if "and" in f:
        return all(_eval_filter(sub, lookup) for sub in f["and"])
    if "or" in f:
        return any(_eval_filter(sub, lookup) for sub in f["or"])
    typ, value = lookup(_filter_member(f))
    return _test(f["operator"], value, f.get("values"), typ)


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


def _order_spec(query: dict) -> list[tuple[str, str]] | None:
    order = query.get("order")
    if order is None:
        return None
    if isinstance(order, dict):
        return [(m, str(d).lower()) for m, d in order.items()]
    return [(item[0], str(item[1]).lower()) for item in order]


def _sort(rows: list[dict], keys: list[tuple[str, str]]) -> list[dict]:
    out = list(rows)
    for column, direction in reversed(keys):
        present = [r for r in out if r.get(column) is not None]
        missing = [r for r in out if r.get(column) is None]
        present.sort(key=lambda r, c=column: r[c], reverse=direction == "desc")
        out = present + missing  # NULLS LAST either way (DuckDB's default)
    return out


def answer(defn: dict, tables: dict[str, list[dict]], query: dict, now: datetime | None = None) -> list[dict]:
    """Rows a Cube REST query returns over `tables` for the model generated from `defn`."""
    nd = normalize(defn)
    if now is None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
    members = _Members(nd)

    measures = list(query.get("measures") or [])
    dimensions = list(query.get("dimensions") or [])
    time_dims = list(query.get("timeDimensions") or [])
    filters = list(query.get("filters") or [])
    segments = list(query.get("segments") or [])
    if query.get("ungrouped") or query.get("total"):
        raise Unsupported("ungrouped / total queries")

    used = (
        measures
        + dimensions
        + [td["dimension"] for td in time_dims]
        + [m for f in filters for m in _filter_members(f)]
        + segments
    )
    cubes = {members.cube_of(m) for m in used}
    if len(cubes) > 1:
        raise Unsupported("a query mixing Accounts and MilestoneCompletionLogs members")
    side = members.log if cubes == {"log"} else members.acc

    # the records of the slice
    records = list(_source_rows(nd["milestone_logs"], tables)) if cubes == {"log"} else _account_records(nd, tables, now)

    dims = side["dimensions"]
    for m in measures:
        if m not in side["measures"]:
            raise ValueError(f"{m!r} is not a measure")
    for m in dimensions + [td["dimension"] for td in time_dims]:
        if m not in dims:
            raise ValueError(f"{m!r} is not a dimension")
    for m in segments:
        if m not in side["segments"]:
            raise ValueError(f"{m!r} is not a segment")

    # WHERE: dimension filters, dateRanges, segments
    dim_filters, measure_filters = [], []
    for f in filters:
        fm = _filter_members(f)
        if all(m in dims for m in fm):
            dim_filters.append(f)
        elif all(m in side["measures"] for m in fm):
            measure_filters.append(f)
        else:
            raise Unsupported(f"a filter group mixing dimensions and measures: {f!r}")
    for td in time_dims:
        date_range = td.get("dateRange")
        if date_range is None:
            continue
        if not isinstance(date_range, (list, tuple)) or len(date_range) != 2:
            raise Unsupported(f"dateRange {date_range!r} (only [from, to] is evaluated)")
        dim_filters.append({"member": td["dimension"], "operator": "inDateRange", "values": list(date_range)})

    def record_lookup(rec: dict) -> Callable[[str], tuple[str, Any]]:
        def lookup(member: str) -> tuple[str, Any]:
            typ, fn = dims[member]
            return typ, fn(rec)

        return lookup

    kept = []
    for rec in records:
        if not all(side["segments"][s](rec) for s in segments):
            continue
        lookup = record_lookup(rec)
        if all(_eval_filter(f, lookup) for f in dim_filters):
            kept.append(rec)

    # GROUP BY
    columns: list[tuple[str, Callable[[dict], Any]]] = []
    for m in dimensions:
        columns.append((m, dims[m][1]))
    for td in time_dims:
        gran = td.get("granularity")
        if gran:
            fn = dims[td["dimension"]][1]
            columns.append((f"{td['dimension']}.{gran}", lambda r, fn=fn, g=gran: _truncate(fn(r), g)))

    groups: dict[tuple, list[dict]] = {}
    for rec in kept:
        key = tuple(fn(rec) for _, fn in columns)
        groups.setdefault(key, []).append(rec)
    if not columns and measures:
        groups = {(): kept}  # a measures-only query returns one row, even over no rows

    rows = []
    for key, group in groups.items():
        row = {name: value for (name, _), value in zip(columns, key, strict=False)}
        for m in measures:
            row[m] = side["measures"][m](group)
        if measure_filters:
            values = {m: fn(group) for m, fn in side["measures"].items() if m in _all(measure_filters)}

            def mlookup(member: str, values=values) -> tuple[str, Any]:
                return "number", values[member]

            if not all(_eval_filter(f, mlookup) for f in measure_filters):
                continue
        rows.append(row)

    # ORDER BY / LIMIT
    spec = _order_spec(query)
    if spec is None:
        spec = []
        grans = [td for td in time_dims if td.get("granularity")]
        if grans:
            spec = [(f"{grans[0]['dimension']}.{grans[0]['granularity']}", "asc")]
        elif measures:
            spec = [(measures[0], "desc")]
        elif dimensions:
            spec = [(dimensions[0], "asc")]
    resolved = []
    for member, direction in spec:
        column = member
        if rows and member not in rows[0]:
            for td in time_dims:
                if td["dimension"] == member and td.get("granularity"):
                    column = f"{member}.{td['granularity']}"
                    break
            else:
                raise Unsupported(f"ordering by {member!r}, which the query does not select")
        resolved.append((column, direction))
    rows = _sort(rows, resolved)
    if query.get("offset"):
        rows = rows[int(query["offset"]) :]
    if query.get("limit") is not None:
        rows = rows[: int(query["limit"])]
    return rows


def _all(filters: list[dict]) -> set[str]:
    return {m for f in filters for m in _filter_members(f)}


def _account_records(nd: dict, tables: dict, now: datetime) -> list[dict]:
    acc_cfg, log_cfg = nd["accounts"], nd["milestone_logs"]
    accounts = _source_rows(acc_cfg, tables)
    logs = _source_rows(log_cfg, tables)
    by_account: dict[Any, list[dict]] = {}
    for log in logs:
        account_id = log.get(log_cfg["account_id"])
        if account_id is not None:
            by_account.setdefault(account_id, []).append(log)
    records = []
    for row in accounts:
        pk = row.get(acc_cfg["primary_key"])
        if pk is None:
            continue  # not an account
        records.append({"row": row, "p": _progress(nd, row, by_account.get(pk, []), now)})
    return records
