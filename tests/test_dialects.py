"""postgres, snowflake and bigquery: the model compiles with that dialect's Cube adapter and every query's SQL
parses in that dialect (sqlglot); the dialect-specific SQL comes from the table in dialects.py.

What runs where (README "Warehouses"): DuckDB and PostgreSQL *execute* the SQL (test_postgres.py for the
real server); Snowflake and BigQuery SQL is compiled by Cube and *parsed*, and `verify` refuses to run it.

To keep Cube's compiler to one Node run per dialect, the three examples and a definition that exercises
every branch of the fold (require all / any / N, windows, users, SQL dimensions, hostile milestone values)
are generated into one model folder, each under its own cube names (Accounts0, Accounts1, ...).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from conftest import EXAMPLE_NAMES, EXAMPLES
from sqlglot import exp
from sqlglot.tokens import TokenType

from activation_semantic import cube_engine
from activation_semantic.cli import app
from activation_semantic.cube_query import for_cube_compiler
from activation_semantic.dialects import DIALECTS, Dialect
from activation_semantic.loader import load_definition
from activation_semantic.model_read import read_model
from activation_semantic.writer import write_model

duckdb = pytest.importorskip("duckdb")

WAREHOUSES = ("postgres", "snowflake", "bigquery")
ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    ("it's", "its"), ("back\\slash", "back_slash"), ("line\nbreak", "line_break"), ("{CUBE}", "cube_ref"),
    ("${x}", "js_template"), ("`tick`", "tick"), ("$1", "dollar_one"), ("50% off", "fifty_off"), ("a?b", "qmark"),
    ("ünï ✓", "unicode"), ("tab\there", "tab"), ("ctl\x01end", "ctl"), ('say "hi"', "dquote"), ("\\'", "bs_quote"),
]

RICH: dict[str, Any] = {
    "version": 1,
    "name": "rich",
    "accounts": {
        "sql_table": "accounts",
        "dimensions": [
            {"name": "plan", "sql": "plan", "type": "string"},
            {"name": "seatsBand", "sql": "CASE WHEN seats > 10 THEN 'big' ELSE 'small' END", "type": "string"},
            {"name": "is_self_serve", "sql": "is_self_serve", "type": "boolean"},
            {"name": "seats", "sql": "seats", "type": "number"},
            {"name": "trialEnd", "sql": "trial_end", "type": "time"},
        ],
    },
    "milestone_logs": {"sql_table": "milestone_completion_logs", "user_id": "user_id"},
    "milestone_sets": [
        {"name": "core", "milestones": [{"value": v, "key": k} for v, k in HOSTILE], "within_days": 14},
        {"name": "any_step", "milestones": ["it's", "b", "c"], "require": "any"},
        {"name": "two_of", "milestones": ["a", "b", "c", "d"], "require": 2, "within_days": 7},
        {"name": "single", "milestones": ["a"], "within_days": 1},
    ],
}

# --------------------------------------------------------------------------------------------- helpers


def example_definition(name: str, dialect: str) -> dict[str, Any]:
    d = yaml.safe_load((EXAMPLES / name / "activation.yml").read_text(encoding="utf-8"))
    d["dialect"] = dialect
    return d


def example_queries(name: str) -> list[dict[str, Any]]:
    fixture = yaml.safe_load((EXAMPLES / name / "fixture.yml").read_text(encoding="utf-8"))
    return [q["query"] for q in fixture["queries"]]


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True)


def rename_member(name: str, cubes: dict[str, str]) -> str:
    cube, _, rest = name.partition(".")
    return f"{cubes.get(cube, cube)}.{rest}"


def rename_query(query: Any, cubes: dict[str, str]) -> Any:
    """The same Cube query with every member's cube renamed."""
    if isinstance(query, list):
        return [rename_query(x, cubes) for x in query]
    if not isinstance(query, dict):
        return query
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("measures", "dimensions", "segments"):
            out[key] = [rename_member(m, cubes) for m in value]
        elif key in ("member", "dimension"):
            out[key] = rename_member(value, cubes)
        elif key == "order" and isinstance(value, dict):
            out[key] = {rename_member(m, cubes): d for m, d in value.items()}
        elif key == "order":
            out[key] = [[rename_member(p[0], cubes), p[1]] for p in value]
        else:
            out[key] = rename_query(value, cubes)
    return out


def renamed(defn: dict[str, Any], k: int, tables: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Definition k of a merged model: its own cube names (and, with tables, its own table names)."""
    d = copy.deepcopy(defn)
    d["name"] = f"{d['name']}_{k}"
    acc, logs = d["accounts"], d["milestone_logs"]
    cubes = {acc.get("cube", "Accounts"): f"Accounts{k}",
             logs.get("cube", "MilestoneCompletionLogs"): f"MilestoneCompletionLogs{k}"}
    acc["cube"], logs["cube"] = cubes[acc.get("cube", "Accounts")], cubes[logs.get("cube", "MilestoneCompletionLogs")]
    if tables:
        acc["sql_table"], logs["sql_table"] = f"{acc['sql_table']}_{k}", f"{logs['sql_table']}_{k}"
    return d, cubes


def merged_model(defs: list[dict[str, Any]], tmp: Path) -> Path:
    """Generate every definition (already renamed apart) and put all the files into one model folder."""
    merged = tmp / "model"
    for k, d in enumerate(defs):
        src = tmp / f"def{k}"
        src.mkdir(parents=True)
        (src / "activation.yml").write_text(dump(d), encoding="utf-8")
        write_model(load_definition(src / "activation.yml"), src / "model")
        for f in (src / "model").rglob("*.yml"):
            target = merged / f.relative_to(src / "model")
            assert not target.exists(), target
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
    return merged


def member_queries(model_dir: Path, cube_name: str, logs_name: str) -> list[dict[str, Any]]:
    """Every member of the accounts and logs cubes in some query, plus filters of every kind."""
    model = read_model(model_dir)
    acc, logs = model.cube(cube_name), model.cube(logs_name)
    total = f"{cube_name}.totalAccounts"
    queries: list[dict[str, Any]] = [{"measures": [f"{cube_name}.{m.name}" for m in acc.measures]},
                                     {"measures": [f"{logs_name}.{m.name}" for m in logs.measures]}]
    for cube in (acc, logs):
        measure = total if cube is acc else f"{logs_name}.{logs.measures[0].name}"
        for d in cube.dimensions:
            member = f"{cube.name}.{d.name}"
            if d.type == "time":
                queries.append({"measures": [measure], "timeDimensions": [
                    {"dimension": member, "granularity": "week", "dateRange": ["2026-01-01", "2026-03-31"]}]})
            else:
                queries.append({"measures": [measure], "dimensions": [member], "order": {member: "asc"}, "limit": 10})
    for s in acc.segments:
        queries.append({"measures": [total], "segments": [f"{cube_name}.{s.name}"]})
    by_type = {d.type: f"{cube_name}.{d.name}" for d in acc.dimensions if not d.primary_key}
    filters = [
        {"member": by_type["string"], "operator": "equals", "values": ["it's", "x"]},
        {"member": by_type["string"], "operator": "notEquals", "values": ["y"]},
        {"member": by_type["string"], "operator": "contains", "values": ["50%"]},
        {"member": by_type["number"], "operator": "gte", "values": ["2"]},
        {"member": by_type["boolean"], "operator": "equals", "values": ["true"]},
        {"member": by_type["time"], "operator": "inDateRange", "values": ["2026-01-01", "2026-02-28"]},
        {"member": by_type["time"], "operator": "beforeDate", "values": ["2026-03-01"]},
        {"member": total, "operator": "gt", "values": ["0"]},
    ]
    queries += [{"measures": [total, f"{cube_name}.percentQualified"], "filters": [f]} for f in filters]
    queries.append({"measures": [total], "dimensions": [f"{logs_name}.{logs.dimensions[2].name}"]})  # fan-out join
    return queries


def inline_params(sql: str, params: list[Any], dialect: Dialect) -> str:
    """Cube's `?` placeholders as literals (what binding does), found with sqlglot's own tokenizer.

    sqlglot reads Snowflake's `?::timestamp_tz` as its `?::` operator, so the check parses the bound statement."""
    tokens = sqlglot.Dialect.get_or_raise(dialect.sqlglot).tokenize(sql)
    marks = [t for t in tokens if (t.token_type == TokenType.PLACEHOLDER and t.text == "?")
             or t.token_type == TokenType.QDCOLON]
    if not marks:
        return sql
    assert len(marks) == len(params), (sql, params)
    out, pos = [], 0
    for t, value in zip(marks, params, strict=True):
        out += [sql[pos:t.start], dialect.string_literal(str(value))]
        pos = t.start + 1
    return "".join(out) + sql[pos:]


def literal_values(node: exp.Expression) -> str | None:
    """The text of a string literal, or of a concatenation of literals and chr(n) ('$' || '1')."""
    if isinstance(node, exp.Paren):
        return literal_values(node.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else None
    if isinstance(node, exp.Chr) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Literal):
        return chr(int(node.expressions[0].this))
    if isinstance(node, exp.DPipe):
        left, right = literal_values(node.this), literal_values(node.expression)
        return None if left is None or right is None else left + right
    return None


def value_tables(tree: exp.Expression) -> list[set[str]]:
    """The milestone values of each `(SELECT 0 AS _as_i, '…' AS _as_value UNION ALL …) AS v` table."""
    found = []
    for node in tree.find_all(exp.Subquery):
        if node.alias == "v":
            found.append({literal_values(select.expressions[1].unalias()) for select in node.find_all(exp.Select)})
    return found


# ------------------------------------------------------------------------------------- the table itself


def test_every_dialect_has_every_entry():
    assert set(DIALECTS) == {"duckdb", "postgres", "snowflake", "bigquery"}
    render_js = (ROOT / "activation_semantic" / "cube_node" / "render.js").read_text(encoding="utf-8")
    for name, d in DIALECTS.items():
        assert d.name == name
        assert re.search(rf"\b{name}: \(\) => require\('[^']*/{d.cube_query_class}\.js'\)", render_js), name
        assert sqlglot.Dialect.get_or_raise(d.sqlglot)
        assert d.add_hours("t", 24) and d.now and d.least_ignore_nulls(["x1", "x2"]) and d.quote_identifier("x")


def test_no_dialect_branches_outside_the_table():
    """Templates and SQL builders read the table; none of them tests a dialect's name."""
    sources = [ROOT / "activation_semantic" / f for f in ("fold_sql.py", "model_build.py", "render.py")]
    sources += sorted((ROOT / "templates").rglob("*.j2"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for name in WAREHOUSES:
            assert f'"{name}"' not in text and f"'{name}'" not in text, f"{path} branches on {name}"
        if path.suffix == ".j2":
            assert "dialect" not in text, path


@pytest.mark.parametrize("name", list(DIALECTS))
def test_string_literals_parse_back_to_the_value(name):
    d = DIALECTS[name]
    for value, _ in [*HOSTILE, ("", ""), ("\u2028\ufeff\x7f", "")]:
        lit = d.string_literal(value)
        assert "\n" not in lit or name in ("duckdb", "postgres"), lit
        parsed = sqlglot.parse_one(f"SELECT {lit}", read=d.sqlglot).find(exp.Literal)
        assert parsed is not None and parsed.this == value, (name, value, lit)


def test_duckdb_literals_execute_to_the_value():
    con = duckdb.connect()
    for value, _ in HOSTILE:
        assert con.execute(f"SELECT {DIALECTS['duckdb'].string_literal(value)}").fetchone()[0] == value


@pytest.mark.parametrize("name", list(DIALECTS))
def test_least_skips_nulls(name):
    """Snowflake's and BigQuery's LEAST return NULL if any argument is NULL: the table must not use it there."""
    d = DIALECTS[name]
    expr = d.least_ignore_nulls(["NULL", "CAST(3 AS INT)", "CAST(2 AS INT)"])
    if name in ("snowflake", "bigquery"):
        assert not expr.upper().startswith("LEAST(")
    if name == "snowflake":
        assert expr.startswith("LEAST_IGNORE_NULLS(")
        return
    sql = f"SELECT {expr}, {d.least_ignore_nulls(['CAST(NULL AS INT)', 'CAST(NULL AS INT)'])}"
    if name == "bigquery":  # run BigQuery's MIN(UNNEST([...])) through sqlglot's translation into DuckDB
        sql = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
    assert duckdb.connect().execute(sql).fetchone() == (2, None)


def test_window_arithmetic_and_now_per_dialect():
    assert DIALECTS["postgres"].add_hours("a.created_at", 336) == "a.created_at + INTERVAL '336 hours'"
    assert DIALECTS["snowflake"].add_hours("a.created_at", 336) == "DATEADD(hour, 336, a.created_at)"
    assert DIALECTS["bigquery"].add_hours("a.created_at", 336) == "TIMESTAMP_ADD(a.created_at, INTERVAL 336 HOUR)"
    assert DIALECTS["snowflake"].now == "SYSDATE()"  # TIMESTAMP_NTZ in UTC, not the session's zone
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    for name in ("duckdb", "postgres"):  # the Postgres expression is also valid DuckDB
        d = DIALECTS[name]
        row = con.execute(f"SELECT {d.add_hours('TIMESTAMP ' + repr('2026-03-07 12:00:00'), 48)}").fetchone()
        assert row[0] == datetime(2026, 3, 9, 12, 0)  # 48 hours, across a DST change of the session zone
    utc_now = con.execute(f"SELECT {DIALECTS['postgres'].now}").fetchone()[0]
    assert abs((utc_now - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds()) < 60
    for d in DIALECTS.values():
        sqlglot.parse_one(f"SELECT {d.add_hours('x', 24)} <= {d.now}", read=d.sqlglot)


# ---------------------------------------------------------------------- Cube compiles it, sqlglot parses it


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, cube) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], Path]]:
    """Per dialect: (queries, Cube's results, model folder) for the examples and RICH, one Node run each."""
    out = {}
    for dialect in WAREHOUSES:
        tmp = tmp_path_factory.mktemp(dialect)
        defs, queries = [], []
        for k, name in enumerate((*EXAMPLE_NAMES, "rich")):
            base = copy.deepcopy(RICH) | {"dialect": dialect} if name == "rich" else example_definition(name, dialect)
            d, cubes = renamed(base, k)
            defs.append(d)
            if name != "rich":
                queries += [rename_query(q, cubes) for q in example_queries(name)]
        model_dir = merged_model(defs, tmp)
        k = len(EXAMPLE_NAMES)  # RICH: every member in some query
        queries += member_queries(model_dir, f"Accounts{k}", f"MilestoneCompletionLogs{k}")
        results = cube_engine.render_checked(model_dir, [for_cube_compiler(q) for q in queries], dialect)
        out[dialect] = (queries, results, model_dir)
    return out


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_model_compiles_and_every_query_parses(compiled, dialect):
    d = DIALECTS[dialect]
    queries, results, _ = compiled[dialect]
    assert len(results) == len(queries) > 80
    for q, res in zip(queries, results, strict=True):
        assert not res.get("error") and res["sql"], (json.dumps(q), res.get("error"))
        if dialect == "postgres":
            assert "?" not in re.sub(r"'(?:[^']|'')*'", "", res["sql"])  # numbered $n placeholders only
        statements = sqlglot.parse(inline_params(res["sql"], res["params"], d), read=d.sqlglot)
        assert len(statements) == 1 and isinstance(statements[0], exp.Select), json.dumps(q)


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_dialect_sql_comes_from_the_table(compiled, dialect):
    """The window, LEAST and now() text in Cube's SQL is exactly the table's, and nothing of other dialects."""
    d = DIALECTS[dialect]
    _, results, _ = compiled[dialect]
    text = "\n".join(r["sql"] for r in results)
    assert d.add_hours("a.created_at", 14 * 24) in text
    assert d.add_hours("w.created_at", 14 * 24) in text  # contributing users: the join to accounts
    assert d.least_ignore_nulls(["s._as_s1_m0", "s._as_s1_m1", "s._as_s1_m2"]) in text  # require: any
    assert d.now in text  # windowClosed / the mature segment
    for other in WAREHOUSES:
        if other != dialect:
            assert DIALECTS[other].add_hours("a.created_at", 14 * 24) not in text
            assert DIALECTS[other].now not in text


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_hostile_values_stay_literals_that_match_the_logs(compiled, dialect):
    """Every milestone value reaches the warehouse as one literal holding exactly the value."""
    d = DIALECTS[dialect]
    queries, results, _ = compiled[dialect]
    k = len(EXAMPLE_NAMES)
    every_measure = next(r for q, r in zip(queries, results, strict=True)
                         if list(q) == ["measures"] and q["measures"][0] == f"Accounts{k}.totalAccounts")
    tree = sqlglot.parse_one(inline_params(every_measure["sql"], every_measure["params"], d), read=d.sqlglot)
    tables = value_tables(tree)
    values = {v for v, _ in HOSTILE}
    assert tables and all(t == values | {"a", "b", "c", "d"} for t in tables), tables  # every value of every set


# ------------------------------------------------------------------------------------- verify's decision


def _write(tmp: Path, name: str, dialect: str) -> Path:
    path = tmp / "activation.yml"
    path.write_text(dump(example_definition(name, dialect)), encoding="utf-8")
    return path


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_verify_refuses_sql_it_cannot_run(runner, tmp_path, dialect):
    definition = _write(tmp_path, "team_collaboration", dialect)
    result = runner.invoke(app, ["verify", str(definition), str(EXAMPLES / "team_collaboration" / "fixture.yml")])
    assert result.exit_code == 2, result.output
    assert f"dialect {dialect}" in result.output and "sqlglot" in result.output and "dialect: duckdb" in result.output
    assert "Traceback" not in result.output


def test_verify_runs_postgres_sql_on_duckdb_without_database(runner, tmp_path):
    definition = _write(tmp_path, "team_collaboration", "postgres")
    result = runner.invoke(app, ["verify", str(definition), str(EXAMPLES / "team_collaboration" / "fixture.yml")])
    assert result.exit_code == 0, result.output
    assert "12 passed, 0 failed" in result.output


@pytest.mark.parametrize(("dialect", "url", "message"), [
    ("duckdb", "postgresql://nobody@/db?host=/nonexistent", "set dialect: postgres"),
    ("postgres", "mysql://root@localhost/db", "takes a PostgreSQL URL"),
])
def test_database_usage_errors(runner, tmp_path, dialect, url, message):
    definition = _write(tmp_path, "team_collaboration", dialect)
    result = runner.invoke(app, ["verify", str(definition), str(EXAMPLES / "team_collaboration" / "fixture.yml"),
                                 "--database", url])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_unreachable_database_is_a_clear_error(runner, tmp_path):
    pytest.importorskip("psycopg")
    definition = _write(tmp_path, "team_collaboration", "postgres")
    result = runner.invoke(app, ["verify", str(definition), str(EXAMPLES / "team_collaboration" / "fixture.yml"),
                                 "--database", f"postgresql://u:secret@/db?host={tmp_path}&port=1"])
    assert result.exit_code == 2, result.output
    assert "cannot connect to PostgreSQL" in result.output and "secret" not in result.output
