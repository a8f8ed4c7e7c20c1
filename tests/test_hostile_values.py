"""Hostile free text: every milestone value, title and description lands as a literal, in both formats.

Each nasty string below becomes, in its own definition, a milestone value, a set title, a milestone
title and the definition description. Every definition is generated as YAML and as JS; Cube's own
compiler compiles all of them (one Node run per format), the SQL it renders runs in DuckDB on logs that
hold the exact value plus near misses (other case, trimmed, escaped spellings, ...), and every count
must equal the independent oracle's. The builtin engine runs the same cases. Titles and descriptions
must come back unchanged both from Cube's own metadata and from `model_read.read_model`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import oracle
import pytest
from helpers import dump

from activation_semantic import cube_engine, escaping
from activation_semantic.compare import compare_rows
from activation_semantic.dialects import DIALECTS
from activation_semantic.errors import DefinitionInvalid
from activation_semantic.fixtures import load_fixture, load_tables
from activation_semantic.fold_sql import literal
from activation_semantic.harness import verify
from activation_semantic.loader import load_definition, load_definition_text
from activation_semantic.model_build import build_model
from activation_semantic.model_read import read_model
from activation_semantic.writer import write_model

LONG = ("{x}'\\$1$`%${CUBE}\"" * 300)[:4096]  # the longest value the definition format takes

NASTY: list[tuple[str, str]] = [
    ("apostrophe", "it's"),
    ("doubled_apostrophes", "O''Brien"),
    ("double_quotes", 'say "hi"'),
    ("cube_ref", "{CUBE}"),
    ("member_ref", "{Accounts.id}"),
    ("js_interpolation", "${CUBE}"),
    ("backticks", "`rm -rf /`"),
    ("backslash", "a\\b"),
    ("two_backslashes", "a\\\\"),
    ("trailing_backslash", "done\\"),
    ("lone_backslash", "\\"),
    ("escaped_brace", "\\{x\\}"),
    ("python_escape", "\\x41\\u0041\\N{BULLET}"),
    ("cube_param_marker", "$0$"),
    ("dollar_digit", "$1"),
    ("dollar_runs", "$$1$$2$$"),
    ("percent_s", "%s"),
    ("percent_named", "%(x)s"),
    ("sql_comment", "-- comment"),
    ("block_comment", "/* c */"),
    ("injection", "'; DROP TABLE accounts; --"),
    ("jinja_expr", "{{ x }}"),
    ("jinja_stmt", "{% if %}"),
    ("jinja_comment", "{# c #}"),
    ("jinja_closers", "%} }} #}"),
    ("yaml_syntax", "- a: &b *c ! | > # d"),
    ("yaml_null", "~"),
    ("newline", "line one\nline two"),
    ("carriage_return", "a\rb\r\n"),
    ("tab", "a\tb"),
    ("control_chars", "\x01\x1b[31m\x7f\x85"),
    ("line_separator", "a\u2028b\u2029c"),
    ("bom_zero_width", "\ufeffa\u200db"),
    ("emoji", "🚀 launched 👩‍👩‍👧"),
    ("rtl", "שלום עולם مرحبا"),
    ("combining", "e\u0301 vs \u00e9"),
    ("spaces", "  padded  "),
    ("case_twin", "Invite Teammate"),
    ("long", LONG),
]

ACCOUNTS_PER_CASE = 4
T0 = datetime(2026, 1, 5, 9, 0)
NOW = datetime(2030, 1, 1)
JINJA = ("{{", "{%", "{#", "%}", "}}")


def near_misses(value: str) -> list[str]:
    """Strings a careless escaper could confuse with `value`; none equals it."""
    duck = DIALECTS["duckdb"].string_literal
    candidates = [
        value.upper(), value.lower(), value.swapcase(), value.strip(), " " + value, value + " ",
        value[:-1], value[1:], value + value[-1:], value.replace("\\", "\\\\"), value.replace("'", "''"),
        escaping.cube_text(value), escaping.js_template((value,))[1:-1], escaping.yaml_cube_text(value)[1:-1],
        escaping.js_string(value)[1:-1], duck(value), literal(value, DIALECTS["duckdb"]), value.replace("\r\n", "\n"),
        value.replace("\u2028", "\n"), value.replace("{", "").replace("}", ""), value.encode("unicode_escape").decode(),
        value + "\n", "",
    ]
    out: list[str] = []
    for c in candidates:
        if c != value and c not in out and "\0" not in c:
            out.append(c)
    return out


def twin(value: str) -> str:
    """The set's second milestone: the value in another case (or, without case, with a suffix)."""
    other = value.swapcase()
    return other if other != value else value + "_"


def definition(i: int, value: str) -> dict[str, Any]:
    return {
        "version": 1,
        "name": f"hostile_{i}",
        "description": value,
        "accounts": {"cube": f"Acc{i}", "sql_table": f"accounts_{i}"},
        "milestone_logs": {"cube": f"Logs{i}", "sql_table": f"logs_{i}"},
        "milestone_sets": [
            {"name": "core", "title": value, "milestones": [{"value": value, "key": "target", "title": value}]},
            {"name": "pair", "title": value, "require": 2, "within_days": 2,
             "milestones": [{"value": value, "key": "target", "title": value}, {"value": twin(value), "key": "twin"}]},
        ],
    }


def tables(i: int, value: str) -> dict[str, list[dict[str, Any]]]:
    """This case's own two tables: the exact value, duplicates, near misses, a NULL time, a late log."""
    ids = [f"h{i}_{k}" for k in range(ACCOUNTS_PER_CASE)]
    accounts = [{"id": acc, "created_at": T0 + timedelta(hours=k)} for k, acc in enumerate(ids)]
    logs: list[dict[str, Any]] = []

    def log(acc: str, v: str, at: datetime | None) -> None:
        logs.append({"id": f"l{len(logs)}", "account_id": acc, "milestone_name": v, "completion_date": at})

    log(ids[0], value, T0 + timedelta(hours=1))  # exact: counts
    log(ids[0], value, T0 + timedelta(hours=2))  # duplicate: counts once
    log(ids[0], twin(value), T0 + timedelta(hours=3))
    for miss in near_misses(value):  # every near miss, never the value: does not count
        log(ids[1], miss, T0 + timedelta(hours=2))
    log(ids[2], value, None)  # no completion time: does not count
    log(ids[3], value, T0 + timedelta(days=30))  # counts for core, outside pair's 2-day window
    log(ids[3], twin(value), T0 + timedelta(hours=4))
    log("nobody", value, T0)  # orphan log: ignored
    return {f"accounts_{i}": accounts, f"logs_{i}": logs}


def queries(i: int) -> list[dict[str, Any]]:
    a = f"Acc{i}."
    return [
        {"measures": [a + "totalAccounts", a + "qualifiedAccounts", a + "percentQualified", a + "coreTargetAccounts",
                      a + "pairQualifiedAccounts", a + "pairTargetAccounts", a + "pairTwinAccounts"]},
        {"measures": [a + "totalAccounts"], "dimensions": [a + "coreMilestonesCompleted", a + "pairActivated"]},
    ]




@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case's definition and fixture on disk, and its model generated in both formats."""
    root = tmp_path_factory.mktemp("hostile")
    out: dict[str, Any] = {"root": root, "items": []}
    for i, (_, value) in enumerate(NASTY):
        defn = definition(i, value)
        data = tables(i, value)
        path = root / f"def_{i}.yml"
        path.write_text(dump(defn), encoding="utf-8")
        fixture = root / f"fixture_{i}.yml"
        qs = [{"query": q, "expect": oracle.answer(defn, data, q, now=NOW)} for q in queries(i)]
        fixture.write_text(dump({"tables": data, "queries": qs}), encoding="utf-8")
        loaded = load_definition(path)
        for fmt in ("yaml", "js"):
            write_model(loaded, root / fmt / f"h{i}", fmt)
        out["items"].append({"i": i, "value": value, "defn": defn, "loaded": loaded, "fixture": fixture,
                             "queries": qs})
    return out


def test_the_definition_file_reads_back_every_value_exactly(cases: dict[str, Any]) -> None:
    for item in cases["items"]:
        d = item["loaded"].definition
        assert d.description == item["value"]
        assert d.milestone_sets[0].title == item["value"]
        assert d.milestone_sets[0].milestones[0].value == item["value"]
        assert d.milestone_sets[0].milestones[0].title == item["value"]


def test_fixture_logs_hold_the_value_and_its_near_misses(cases: dict[str, Any]) -> None:
    for item in cases["items"]:
        counts = item["queries"][0]["expect"][0]
        a = f"Acc{item['i']}."
        assert counts[a + "totalAccounts"] == ACCOUNTS_PER_CASE
        assert counts[a + "coreTargetAccounts"] == 2, item["value"]  # h_0 and h_3: the exact value only
        assert counts[a + "pairQualifiedAccounts"] == 1, item["value"]  # h_0: both inside the window
        assert len(near_misses(item["value"])) >= 5


def test_generated_yaml_never_looks_like_jinja(cases: dict[str, Any]) -> None:
    files = sorted((cases["root"] / "yaml").rglob("*.yml"))
    assert len(files) == 3 * len(NASTY)
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = [marker for marker in JINJA if marker in text]
        assert not found, (path, found)


@pytest.mark.parametrize("fmt", ["yaml", "js"])
def test_model_read_returns_the_exact_text(cases: dict[str, Any], fmt: str) -> None:
    con = duckdb.connect()
    for item in cases["items"]:
        i, value = item["i"], item["value"]
        model = read_model(cases["root"] / fmt / f"h{i}")
        acc = model.cube(f"Acc{i}")
        assert acc.description == value
        titles = {m.name: m.title for m in acc.measures}
        assert titles["coreQualifiedAccounts"] == f"{value}: Qualified Accounts"
        assert titles["coreTargetAccounts"] == f"{value}: {value} (accounts)"
        assert titles["pairTargetPercent"] == f"{value}: {value} (percent)"
        sql_text = "".join(p if isinstance(p, str) else "{" + str(p) + "}" for p in acc.sql or ())
        lit = literal(value, DIALECTS["duckdb"])
        assert lit in sql_text
        assert con.execute(f"SELECT {lit}").fetchone()[0] == value


@pytest.mark.parametrize("fmt", ["yaml", "js"])
def test_builtin_engine_counts_equal_the_oracle(cases: dict[str, Any], fmt: str) -> None:
    for item in cases["items"]:
        report = verify(item["loaded"], [item["fixture"]], fmt=fmt)
        bad = [(r.name, r.status, r.message, r.missing, r.unexpected) for r in report.results if r.status != "pass"]
        assert not bad, (item["value"], bad)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["yaml", "js"])
def test_cube_compiles_every_model_and_counts_equal_the_oracle(cases: dict[str, Any], fmt: str, cube: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    items = cases["items"]
    all_queries = [q["query"] for item in items for q in item["queries"]]
    seen: dict[str, Any] = {}
    real_render = cube_engine.render
    monkeypatch.setattr(cube_engine, "render", lambda *a, **k: seen.setdefault("doc", real_render(*a, **k)))
    # one Node run for every model of the format; CubeCompileFailed on any compile error
    results = cube_engine.render_checked(cases["root"] / fmt, all_queries, "duckdb", meta=True)
    doc = seen["doc"]
    assert results == doc["results"]

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for item in items:
        load_tables(con, load_fixture(item["fixture"]), item["loaded"].definition)
    meta = {c["name"]: c for c in doc["meta"]["cubes"]}
    results = iter(doc["results"])
    for item in items:
        i, value = item["i"], item["value"]
        for q in item["queries"]:
            res = next(results)
            assert res["error"] is None, (value, res["error"])
            cur = con.execute(res["sql"], res["params"])
            names = [res["aliasNameToMember"].get(d[0], d[0]) for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            diff = compare_rows(q["expect"], rows, ordered=False)
            assert diff.ok, (fmt, value, q["query"], diff.missing, diff.unexpected)
        acc = meta[f"Acc{i}"]
        assert literal(value, DIALECTS["duckdb"]) in acc["sql"], (fmt, value)  # the literal, exactly as generated
        assert acc["description"] == value, (fmt, value)
        titles = {m["name"]: m.get("title") for m in acc["measures"]}
        assert titles["coreQualifiedAccounts"] == f"{value}: Qualified Accounts", (fmt, value)
        assert titles["coreTargetAccounts"] == f"{value}: {value} (accounts)", (fmt, value)
        dims = {m["name"]: m.get("title") for m in acc["dimensions"]}
        assert dims["pairActivated"] == f"{value}: Activated", (fmt, value)


HOSTILE_SQL = "CASE WHEN plan = 'a\r\nb{CUBE}${x}`\\x41%s' THEN 1 END"


def all_in_one(dialect: str) -> dict[str, Any]:
    """One definition holding every nasty value, for the dialects whose literals use backslash escapes."""
    return {
        "version": 1, "name": f"all_{dialect}", "dialect": dialect, "description": "".join(v for _, v in NASTY[:-1]),
        "accounts": {"sql_table": "accounts", "dimensions": [{"name": "hostile", "sql": HOSTILE_SQL, "type": "number"}]},
        "milestone_logs": {"sql_table": "milestone_completion_logs"},
        "milestone_sets": [{"name": "core", "require": "any", "title": NASTY[0][1],
                            "milestones": [{"value": v, "key": k, "title": v} for k, v in NASTY]}],
    }


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery"])
@pytest.mark.parametrize("fmt", ["yaml", "js"])
def test_files_read_back_to_the_model_that_was_built(tmp_path: Path, dialect: str, fmt: str) -> None:
    loaded = load_definition_text(dump(all_in_one(dialect)), "all.yml")
    write_model(loaded, tmp_path, fmt)  # type: ignore[arg-type]
    assert read_model(tmp_path) == build_model(loaded.definition)


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "dialect"), [("yaml", "snowflake"), ("js", "bigquery")])
def test_backslash_dialects_keep_every_literal(tmp_path: Path, fmt: str, dialect: str, cube: None) -> None:
    """Snowflake and BigQuery literals escape with backslashes: Cube's SQL must still hold them verbatim."""
    loaded = load_definition_text(dump(all_in_one(dialect)), "all.yml")
    write_model(loaded, tmp_path, fmt)  # type: ignore[arg-type]
    doc = cube_engine.render(tmp_path, [{"measures": ["Accounts.coreCubeRefAccounts"]}], dialect, meta=True)
    assert doc["ok"], doc.get("errors")
    assert doc["results"][0]["error"] is None
    acc = next(c for c in doc["meta"]["cubes"] if c["name"] == "Accounts")
    for _, value in NASTY:
        assert literal(value, DIALECTS[dialect]) in acc["sql"], value
    assert f"({HOSTILE_SQL}) AS " in acc["sql"]
    titles = {m["name"]: m.get("title") for m in acc["measures"]}
    for key, value in NASTY:
        member = "core" + "".join(w.capitalize() for w in key.split("_")) + "Accounts"
        assert titles[member] == f"{NASTY[0][1]}: {value} (accounts)", value


HEAD = """version: 1
name: hostile
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
"""


@pytest.mark.parametrize(("where", "text", "expected"), [
    ("value", 'milestone_sets:\n  - name: core\n    milestones: ["a\\0b"]\n',
     "h.yml:9:18: milestone_sets[0].milestones[0].value: contains a NUL character, which no warehouse stores in text"),
    ("set title", 'milestone_sets:\n  - name: core\n    title: "t\\0"\n    milestones: [a]\n',
     "h.yml:9:12: milestone_sets[0].title: contains a NUL character, which no warehouse stores in text"),
    ("milestone title", 'milestone_sets:\n  - name: core\n    milestones: [{value: a, title: "\\0"}]\n',
     "h.yml:9:36: milestone_sets[0].milestones[0].title: contains a NUL character, which no warehouse stores in text"),
    ("description", 'description: "\\0"\nmilestone_sets:\n  - name: core\n    milestones: [a]\n',
     "h.yml:7:14: description: contains a NUL character, which no warehouse stores in text"),
    ("too long", f"milestone_sets:\n  - name: core\n    milestones: [{'x' * 5000}]\n",
     "h.yml:9:18: milestone_sets[0].milestones[0].value: is too long (at most 4096 characters)"),
    ("too long title", f"milestone_sets:\n  - name: core\n    title: {'t' * 5000}\n    milestones: [a]\n",
     "h.yml:9:12: milestone_sets[0].title: is too long (at most 4096 characters)"),
])
def test_text_no_warehouse_can_hold_is_refused(where: str, text: str, expected: str) -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        load_definition_text(HEAD + text, "h.yml")
    assert [str(f) for f in exc.value.findings] == [expected], where
