"""The postgres dialect on a real PostgreSQL server: the numbers equal the independent oracle.

A throwaway server is started once per session (initdb + pg_ctl; as the `postgres` user when running as
root), listening only on a unix socket in a temporary folder, with trust auth, and stopped at the end.
Without PostgreSQL installed the tests skip, except under CI (env CI set), where they fail.

Both engines run on it: Cube's own SQL (PostgresQuery, `$n` placeholders) and the builtin engine's.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import oracle
import pytest
import yaml
from conftest import EXAMPLE_NAMES, EXAMPLES
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from randomized import definitions, tables
from test_dialects import HOSTILE, dump, example_definition, merged_model, rename_query, renamed
from test_differential_builtin import query_matrix
from test_examples_oracle import load_example

from activation_semantic import builtin_engine, cube_engine, postgres
from activation_semantic.cli import app
from activation_semantic.compare import compare_rows
from activation_semantic.cube_query import for_cube_compiler
from activation_semantic.dialects import DIALECTS
from activation_semantic.fixtures import load_fixture
from activation_semantic.fold_sql import literal
from activation_semantic.harness import cube_alias, query_columns, verify
from activation_semantic.loader import load_definition
from activation_semantic.model_read import read_model

psycopg = pytest.importorskip("psycopg")


# ------------------------------------------------------------------------------------------- the server


def _find(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}") + glob.glob(f"/usr/pgsql-*/bin/{name}")
    newest = sorted(candidates, key=lambda p: int((re.findall(r"(\d+)/bin/", p) or ["0"])[0]))
    return newest[-1] if newest else None


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {why}", pytrace=False)
    pytest.skip(why)


class _Server:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _find("initdb"), _find("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            _unavailable("PostgreSQL is not installed (no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin)")
        self.as_user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                _unavailable("running as root and there is no 'postgres' user to run the server as")
            self.as_user = "postgres"
        base = "/tmp" if os.path.isdir("/tmp") else None  # unix socket paths must stay short
        self.root = Path(tempfile.mkdtemp(prefix="as-pg-", dir=base))
        self.data, self.log = self.root / "data", self.root / "server.log"
        if self.as_user:
            user = pwd.getpwnam(self.as_user)
            os.chmod(self.root, 0o755)
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *cmd: str) -> None:
        argv = list(cmd)
        if self.as_user:
            argv = (["runuser", "-u", self.as_user, "--", *argv] if shutil.which("runuser")
                    else ["su", self.as_user, "-s", "/bin/sh", "-c", shlex.join(argv)])
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{shlex.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> str:
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = f"-k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        return f"postgresql://postgres@/postgres?host={self.root}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL (unix socket, trust auth) for the session; the server is stopped and removed after."""
    server = _Server()
    try:
        yield server.start()
    finally:
        server.stop()


def leftover_schemas(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s",
                            [postgres.SCHEMA_PREFIX + "%"]).fetchall()
    return [r[0] for r in rows]


# ------------------------------------------------------------------------- the examples, both engines

NOW = datetime.now(timezone.utc).replace(tzinfo=None)


def oracle_fixture(name: str, tmp: Path) -> Path:
    """The example's fixture with every expectation recomputed by the oracle (tables: the committed CSVs)."""
    defn, data, fixture = load_example(name)
    queries = [{"query": q["query"], "expect": oracle.answer(defn, data, q["query"], now=NOW)}
               for q in fixture["queries"]]
    tables = {t: str((EXAMPLES / name / src).resolve()) for t, src in fixture["tables"].items()}
    path = tmp / "fixture.yml"
    path.write_text(dump({"tables": tables, "queries": queries}), encoding="utf-8")
    return path


def postgres_definition(name: str, tmp: Path) -> Path:
    path = tmp / "activation.yml"
    path.write_text(dump(example_definition(name, "postgres")), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["cube", "builtin"])
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_on_postgres_equal_the_oracle(pg_url, request, tmp_path, name, engine):
    if engine == "cube":
        request.getfixturevalue("cube")
    loaded = load_definition(postgres_definition(name, tmp_path))
    report = verify(loaded, [oracle_fixture(name, tmp_path)], engine=engine, database=pg_url)
    bad = [(r.name, r.status, r.message, r.missing, r.unexpected) for r in report.results if r.status != "pass"]
    assert not bad and len(report.results) >= 8, bad
    assert leftover_schemas(pg_url) == []


def test_cli_verify_database(pg_url, runner, tmp_path):
    definition = postgres_definition("team_collaboration", tmp_path)
    fixture = EXAMPLES / "team_collaboration" / "fixture.yml"
    ok = runner.invoke(app, ["verify", str(definition), str(fixture), "--database", pg_url, "--output", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["summary"] == {"pass": 12, "fail": 0, "error": 0, "unsupported": 0}
    wrong = tmp_path / "wrong.yml"
    doc = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    doc["tables"] = {t: str((fixture.parent / p).resolve()) for t, p in doc["tables"].items()}
    doc["queries"][0]["expect"][0]["Accounts.qualifiedAccounts"] = 361
    wrong.write_text(dump(doc), encoding="utf-8")
    failed = runner.invoke(app, ["verify", str(definition), str(wrong), "--database", pg_url])
    assert failed.exit_code == 1, failed.output
    assert "Accounts.qualifiedAccounts" in failed.output and "1 failed" in failed.output
    assert leftover_schemas(pg_url) == []


def test_fixture_types_and_isolation(pg_url, tmp_path):
    """Time columns become timestamp, the rest keep their CSV/YAML types; the schema is private and dropped."""
    definition = load_definition(postgres_definition("developer_api", tmp_path)).definition
    fixture = load_fixture(EXAMPLES / "developer_api" / "fixture.yml")
    with postgres.temporary_schema(pg_url) as session:
        session.load_tables(fixture, definition)
        _, rows = session.run("SELECT table_name, column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = ? ORDER BY 1, ordinal_position", [session.schema])
        types = {(t, c): ty for t, c, ty in rows}
        assert types[("accounts", "created_at")] == "timestamp without time zone"
        assert types[("milestone_completion_logs", "completion_date")] == "timestamp without time zone"
        assert types[("accounts", "is_self_serve")] == "boolean"
        assert types[("accounts", "id")] == "text"
        _, count = session.run("SELECT count(*) FROM accounts")
        assert count == [(500,)]
        _, lit = session.run("SELECT '50% off', $1::text || '?', $2::int", ["a", 7], "numeric")
        assert lit == [("50% off", "a?", 7)]
        schema = session.schema
    assert schema not in leftover_schemas(pg_url) and leftover_schemas(pg_url) == []


def test_placeholders_are_translated_outside_quotes_only():
    text, values = postgres.to_pyformat("SELECT '$1 ?', \"a?\", $2, $1 -- $3 ?\n, $1", ["x", "y"], "numeric")
    assert text == "SELECT '$1 ?', \"a?\", %s, %s -- $3 ?\n, %s" and values == ["y", "x", "x"]
    text, values = postgres.to_pyformat("SELECT ?, '100%', ? /* ? */", [1, 2], "qmark")
    assert text == "SELECT %s, '100%%', %s /* ? */" and values == [1, 2]
    with pytest.raises(ValueError):
        postgres.to_pyformat("SELECT ?", [], "qmark")


def test_hostile_literals_execute_to_the_value(pg_url):
    with postgres.temporary_schema(pg_url) as session:
        for value, _ in HOSTILE:
            _, rows = session.run(f"SELECT {literal(value, DIALECTS['postgres'])}")
            assert rows == [(value,)], value
        _, rows = session.run(f"SELECT {DIALECTS['postgres'].least_ignore_nulls(['NULL', '3', '2'])}, "
                              f"{DIALECTS['postgres'].now} - (now() AT TIME ZONE 'UTC') < INTERVAL '1 minute'")
        assert rows == [(2, True)]


# ------------------------------------------------------------------------------ random definitions


def _window_queries(defn: dict[str, Any]) -> list[dict[str, Any]]:
    nd = oracle.normalize(defn)
    out = []
    for s in nd["milestone_sets"]:
        if s["within_days"] is not None:
            name = lambda *p: "Accounts." + oracle.member_name(nd["naming"], *p)  # noqa: E731
            out.append({"measures": [name("total_accounts"), name("qualified_accounts")],
                        "dimensions": [name(s["name"], "window_closed")]})
            out.append({"measures": [name("total_accounts")], "segments": [name(s["name"], "mature")]})
    return out


def _fixture_tables(accounts: str, logs: str, data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """At least one row per table, so the loader knows the columns (an all-NULL row counts for nothing)."""
    blank_log = {"id": None, "account_id": None, "milestone_name": None, "completion_date": None, "user_id": None}
    return {accounts: data["accounts"] or [{"id": None, "created_at": None, "plan": None}],
            logs: data["milestone_completion_logs"] or [blank_log]}


CASES_PER_EXAMPLE = 12


@pytest.mark.slow
@settings(max_examples=2, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases=st.lists(st.tuples(definitions(), tables()), min_size=CASES_PER_EXAMPLE, max_size=CASES_PER_EXAMPLE))
def test_random_definitions_on_postgres_equal_the_oracle(pg_url, cube, tmp_path_factory, cases):
    """2 x 12 random definitions with their tables, in one model folder and one schema per example (one Cube run):
    Cube's SQL and the builtin engine's, on PostgreSQL, equal the oracle."""
    assume(len({repr(c) for c in cases}) > 1)  # not hypothesis' first, all-minimal example: 12 times the same case
    tmp = tmp_path_factory.mktemp("random")
    defs, checks = [], []
    for k, (defn, data) in enumerate(cases):
        d, cubes = renamed(defn | {"dialect": "postgres"}, k, tables=True)
        tables_k = {d["accounts"]["sql_table"]: data["accounts"],
                    d["milestone_logs"]["sql_table"]: data["milestone_completion_logs"]}
        fixture = tmp / f"fixture{k}.yml"
        fixture.write_text(dump({"tables": _fixture_tables(*tables_k, data),
                                 "queries": [{"query": {"measures": [f"Accounts{k}.totalAccounts"]}, "expect": []}]}))
        defs.append(d)
        for q in query_matrix(defn) + _window_queries(defn):
            q_k = rename_query(q, cubes)
            checks.append((k, fixture, q_k, oracle.answer(d, tables_k, q_k)))
    model_dir = merged_model(defs, tmp)
    model = read_model(model_dir)
    rendered = cube_engine.render_checked(model_dir, [for_cube_compiler(c[2]) for c in checks], "postgres")
    with postgres.temporary_schema(pg_url) as session:
        for k in range(len(defs)):
            loaded = load_definition(tmp / f"def{k}" / "activation.yml")
            session.load_tables(load_fixture(tmp / f"fixture{k}.yml"), loaded.definition)
        for (k, _, query, expect), res in zip(checks, rendered, strict=True):
            assert not res.get("error"), (query, res["error"])
            names, data = session.run(res["sql"], res["params"], "numeric")
            by_alias = {cube_alias(c): c for c in query_columns(query)} | dict(res.get("aliasNameToMember") or {})
            rows = [dict(zip([by_alias.get(n, n) for n in names], r, strict=True)) for r in data]
            diff = compare_rows(expect, rows, ordered=False)
            assert diff.ok, ("cube", k, defs[k], query, diff.missing, diff.unexpected, res["sql"])
            planned = builtin_engine.plan(model, query)
            _, data = session.run(planned.sql, planned.params, "qmark")
            rows = [dict(zip(planned.columns, r, strict=True)) for r in data]
            diff = compare_rows(expect, rows, ordered=False)
            assert diff.ok, ("builtin", k, defs[k], query, diff.missing, diff.unexpected, planned.sql)
