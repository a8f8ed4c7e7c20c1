"""builtin engine == Cube engine (Cube's own compiler, YAML and JS models) == independent oracle.

Every example, and hypothesis-generated definitions and data, run one query matrix through
`harness.verify` with the builtin engine and with the Cube engine over the generated YAML or JS
model. The fixture's expectations come from tests/oracle.py (SPEC §3 in plain Python);
for Accounts measures grouped by `MilestoneCompletionLogs.milestoneName`, which the oracle and
the builtin engine leave to Cube's join planning, they come from `fanout_expect` below
(SPEC §3: Cube's fan-out rules, an account counted once per group). Each engine must pass
every query (the builtin engine must call the mixed-cube queries `unsupported`), and the rows
of the builtin and Cube engines must also agree with each other directly.

The Cube engine starts one Node process per model (~1.3 s), so each case renders its whole
matrix in one call, in one format (the examples alternate, hypothesis draws it; both formats
compile to the same SQL, test_cube_engine.py), and the hypothesis run stays small: 12 examples.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from randomized import definitions, tables
from test_differential_builtin import dump, query_matrix
from test_examples_oracle import load_example

from activation_semantic.compare import compare_rows
from activation_semantic.harness import VerifyReport, verify
from activation_semantic.loader import load_definition

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_NAMES = ("team_collaboration", "crm_onboarding", "developer_api")


def _names(defn: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    nd = oracle.normalize(defn)
    acc, logs = nd["accounts"]["cube"], nd["milestone_logs"]["cube"]

    def a(*parts: str) -> str:
        return f"{acc}.{oracle.member_name(nd['naming'], *parts)}"

    def lg(*parts: str) -> str:
        return f"{logs}.{oracle.member_name(nd['naming'], *parts)}"

    return nd, a, lg


def _common_value(rows: list[dict[str, Any]], column: str) -> Any:
    counts = Counter(r.get(column) for r in rows if r.get(column) is not None)
    return counts.most_common(1)[0][0] if counts else "pro"


def cube_matrix(defn: dict[str, Any], data: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The builtin differential matrix plus day/month cohorts, every account dimension, filters of each
    kind, order, the logs cube, and Accounts measures grouped by the logs' milestone name (mixed)."""
    nd, a, lg = _names(defn)
    total, qualified, percent = a("total_accounts"), a("qualified_accounts"), a("percent_qualified")
    created = a("created_at")
    primary = nd["milestone_sets"][0]
    funnel = [a(primary["name"], m["key"], "accounts") for m in primary["milestones"]]
    plan = _common_value(data.get(nd["accounts"]["sql_table"], []), "plan")
    queries = query_matrix(defn)
    queries += [
        {"measures": [total, qualified, percent], "timeDimensions": [{"dimension": created, "granularity": "day"}]},
        {"measures": [total, qualified],
         "timeDimensions": [{"dimension": created, "granularity": "month", "dateRange": ["2026-02-01", "2026-03-15"]}]},
        {"measures": [total, *funnel],
         "timeDimensions": [{"dimension": a(primary["name"], "activated_at"), "granularity": "day"}]},
        {"measures": [qualified, percent],
         "filters": [{"member": created, "operator": "inDateRange", "values": ["2026-02-03", "2026-03-01"]}]},
        {"measures": [total, qualified], "filters": [{"member": created, "operator": "notSet"}]},
        {"measures": [total], "filters": [{"member": a(primary["name"], "activated"), "operator": "equals",
                                           "values": ["true"]}]},
        {"measures": [total, percent], "filters": [{"member": a(primary["name"], "activated_at"), "operator": "set"}]},
        {"measures": [total, qualified], "filters": [{"or": [
            {"member": a(primary["name"], "milestones_completed"), "operator": "gte", "values": ["2"]},
            {"member": created, "operator": "beforeDate", "values": ["2026-02-10"]}]}]},
        {"measures": [lg("total_milestones_completed")], "dimensions": [lg("milestone_name")]},
        {"measures": [lg("total_milestones_completed")],
         "timeDimensions": [{"dimension": lg("completion_date"), "granularity": "day"}]},
        # mixed cubes: the builtin engine must say `unsupported`, Cube answers with its fan-out rules
        {"measures": [total, qualified, percent, *funnel], "dimensions": [lg("milestone_name")]},
    ]
    for dim in nd["accounts"]["dimensions"]:
        member = f"{nd['accounts']['cube']}.{dim['name']}"
        queries.append({"measures": [total, qualified, percent], "dimensions": [member]})
    if any(d["name"] == "plan" for d in nd["accounts"]["dimensions"]):
        plan_member = f"{nd['accounts']['cube']}.plan"
        queries += [
            {"measures": [total, qualified], "filters": [{"member": plan_member, "operator": "equals", "values": [plan]}]},
            {"measures": [total, qualified], "dimensions": [plan_member],
             "filters": [{"member": plan_member, "operator": "notEquals", "values": [plan]}]},
            {"measures": [total, qualified], "dimensions": [plan_member],
             "filters": [{"member": total, "operator": "gt", "values": ["1"]}]},
            {"measures": [total, percent], "dimensions": [plan_member], "order": {plan_member: "asc"}},
            {"measures": [total, qualified], "dimensions": [lg("milestone_name")],
             "filters": [{"member": plan_member, "operator": "equals", "values": [plan]}]},
        ]
    for s in nd["milestone_sets"]:
        if s["within_days"] is not None:
            queries.append({"measures": [total, a(s["name"], "qualified_accounts")],
                            "dimensions": [a(s["name"], "window_closed")]})
            queries.append({"measures": [total], "segments": [a(s["name"], "mature")]})
    return queries


def is_mixed(defn: dict[str, Any], query: dict[str, Any]) -> bool:
    logs_cube = oracle.normalize(defn)["milestone_logs"]["cube"] + "."
    members = list(query.get("measures", [])) + list(query.get("dimensions", []))
    return any(m.startswith(logs_cube) for m in members) and not all(m.startswith(logs_cube) for m in members)


def fanout_expect(defn: dict[str, Any], data: dict[str, list[dict[str, Any]]], query: dict[str, Any],
                  now: datetime) -> list[dict[str, Any]]:
    """Accounts measures grouped by a MilestoneCompletionLogs dimension, from SPEC §3 and Cube's fan-out rules.

    Cube joins Accounts LEFT JOIN logs, takes the DISTINCT (log dimension, account) pairs and counts each
    account once per pair: an account lands once in every milestone-name group it has logs in (any log row:
    NULL times and milestones outside every set included), and accounts without logs form the NULL group.
    Account filters slice the accounts first. Per group the measures are the oracle's over that group's accounts.
    """
    nd, _a, lg = _names(defn)
    acc, logs = nd["accounts"], nd["milestone_logs"]
    [group_by] = query["dimensions"]
    assert group_by == lg("milestone_name"), query
    accounts_filters = list(query.get("filters", []))
    kept = oracle.answer(defn, data, {"dimensions": [f"{acc['cube']}.id"], "filters": accounts_filters}, now=now)
    names_of: dict[Any, set[Any]] = {}
    for log in data[logs["sql_table"]]:
        names_of.setdefault(log.get(logs["account_id"]), set()).add(log.get(logs["milestone"]))
    groups: dict[Any, list[Any]] = {}
    for row in kept:
        account = row[f"{acc['cube']}.id"]
        for name in names_of.get(account) or {None}:
            groups.setdefault(name, []).append(account)
    out = []
    for name, ids in groups.items():
        scope = {"member": f"{acc['cube']}.id", "operator": "equals", "values": ids}
        [values] = oracle.answer(defn, data, {"measures": query["measures"], "filters": [scope]}, now=now)
        out.append({group_by: name, **values})
    return out


def _problems(report: VerifyReport, allowed_unsupported: set[str]) -> list[tuple[Any, ...]]:
    out = []
    for r in report.results:
        want = "unsupported" if r.name in allowed_unsupported else "pass"
        if r.status != want:
            out.append((r.name, r.status, r.message, r.missing, r.unexpected, r.sql[-600:]))
    return out


def run_engines(defn: dict[str, Any], fixture_tables: dict[str, Any], oracle_tables: dict[str, list[dict[str, Any]]],
                tmp: Path, formats: tuple[str, ...]) -> tuple[dict[str, VerifyReport], set[str]]:
    """Write the definition and an oracle fixture; verify with builtin and with cube per format; compare all."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    entries, mixed = [], set()
    for i, q in enumerate(cube_matrix(defn, oracle_tables)):
        name = f"q{i}"
        if is_mixed(defn, q):
            mixed.add(name)
            expect = fanout_expect(defn, oracle_tables, q, now)
        else:
            expect = oracle.answer(defn, oracle_tables, q, now=now)
        entries.append({"name": name, "query": q, "expect": expect})
    assert mixed, "the matrix must group Accounts measures by a MilestoneCompletionLogs dimension"
    (tmp / "activation.yml").write_text(dump(defn), encoding="utf-8")
    (tmp / "fixture.yml").write_text(dump({"tables": fixture_tables, "queries": entries}), encoding="utf-8")
    loaded = load_definition(tmp / "activation.yml")
    fixture = [tmp / "fixture.yml"]
    # Node renders while the builtin engine runs (each verify has its own model folder and DuckDB)
    with ThreadPoolExecutor(max_workers=2) as pool:
        cube_runs = {f"cube/{fmt}": pool.submit(verify, loaded, fixture, engine="cube", fmt=fmt) for fmt in formats}
        reports = {"builtin": verify(loaded, fixture, engine="builtin")}
        reports |= {label: run.result() for label, run in cube_runs.items()}
    for label, report in reports.items():
        assert len(report.results) == len(entries), label
        bad = _problems(report, mixed if label == "builtin" else set())
        assert not bad, (label, bad)
    # builtin == cube (and yaml == js), row for row, wherever the builtin engine plans the query
    cubes = [reports[f"cube/{fmt}"].results for fmt in formats]
    for b, *c in zip(reports["builtin"].results, *cubes, strict=True):
        ordered = "order" in entries[int(b.name[1:])]["query"]
        for other in c[1:]:
            assert compare_rows(c[0].actual, other.actual, ordered).ok, (b.name, c[0].actual, other.actual)
        if b.status == "pass":
            assert compare_rows(b.actual, c[0].actual, ordered).ok, (b.name, b.actual, c[0].actual)
    return reports, mixed


# ------------------------------------------------------------------------------ examples


# Both formats pass every example's own fixture (test_cube_engine.py) and compile to identical Cube
# metadata and SQL there; here each example runs the larger matrix once, the formats alternating.
EXAMPLE_FORMATS = [(name, ("yaml", "js")[i % 2]) for i, name in enumerate(EXAMPLE_NAMES)]


@pytest.mark.parametrize(("name", "fmt"), EXAMPLE_FORMATS)
def test_example_builtin_cube_and_oracle_agree(cube: None, name: str, fmt: str, tmp_path: Path) -> None:
    defn, data, fixture = load_example(name)
    folder = EXAMPLES / name
    fixture_tables = {t: str((folder / src).resolve()) for t, src in fixture["tables"].items()}
    reports, mixed = run_engines(defn, fixture_tables, data, tmp_path, (fmt,))
    # the fan-out really happened: several milestone groups, and accounts counted in more than one of them
    first = min(mixed, key=lambda q: int(q[1:]))  # the unfiltered one
    [fanout] = [r for r in reports[f"cube/{fmt}"].results if r.name == first]
    assert len(fanout.actual) > 3, name
    accounts = sum(1 for row in data["accounts"] if row.get("id") is not None)
    assert sum(row["Accounts.totalAccounts"] for row in fanout.actual) > accounts, name


# ------------------------------------------------------------------------------ hypothesis


def _fixture_tables(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Inline rows; an empty table gets one all-NULL row so its columns are known (no account, no log)."""
    out = {t: list(rows) for t, rows in data.items()}
    if not out["accounts"]:
        out["accounts"] = [{"id": None, "created_at": None, "plan": None}]
    if not out["milestone_completion_logs"]:
        out["milestone_completion_logs"] = [{"id": None, "account_id": None, "milestone_name": None,
                                             "completion_date": None, "user_id": None}]
    return out


@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(defn=definitions(), data=tables(), fmt=st.sampled_from(["yaml", "js"]))
def test_random_builtin_cube_and_oracle_agree(cube: None, defn: dict[str, Any], data: dict[str, Any], fmt: str,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """One Node process per example: the format is drawn (the examples above run both)."""
    rows = _fixture_tables(data)
    # the oracle reads exactly the rows DuckDB holds (the all-NULL filler rows belong to no account)
    run_engines(defn, rows, rows, tmp_path_factory.mktemp("case"), (fmt,))


_T = datetime(2026, 2, 1)
HAND_DEFN = {"version": 1, "name": "f", "accounts": {"sql_table": "accounts",
                                                     "dimensions": [{"name": "plan", "sql": "plan", "type": "string"}]},
             "milestone_logs": {"sql_table": "milestone_completion_logs"},
             "milestone_sets": [{"name": "core", "milestones": ["a", "b"]}]}
HAND_DATA = {
    "accounts": [{"id": "x", "created_at": _T, "plan": "pro"}, {"id": "y", "created_at": _T, "plan": "free"},
                 {"id": "z", "created_at": _T, "plan": "pro"}, {"id": None, "created_at": _T, "plan": "pro"}],
    "milestone_completion_logs": [
        {"id": 1, "account_id": "x", "milestone_name": "a", "completion_date": _T},
        {"id": 2, "account_id": "x", "milestone_name": "a", "completion_date": _T},
        {"id": 3, "account_id": "x", "milestone_name": "b", "completion_date": _T},
        {"id": 4, "account_id": "y", "milestone_name": "a", "completion_date": None},
        {"id": 5, "account_id": "orphan", "milestone_name": "c", "completion_date": _T},
    ],
}


def test_fanout_expectation_by_hand() -> None:
    """fanout_expect itself: once per milestone group, NULL group for accounts without logs, filters first."""
    defn, data, t = HAND_DEFN, HAND_DATA, _T
    q = {"measures": ["Accounts.totalAccounts", "Accounts.qualifiedAccounts"],
         "dimensions": ["MilestoneCompletionLogs.milestoneName"]}
    with pytest.raises(oracle.Unsupported):
        oracle.answer(defn, data, q, now=t)
    rows = fanout_expect(defn, data, q, t)
    key = "MilestoneCompletionLogs.milestoneName"
    assert sorted(rows, key=lambda r: (r[key] is None, str(r[key]))) == [
        {key: "a", "Accounts.totalAccounts": 2, "Accounts.qualifiedAccounts": 1},
        {key: "b", "Accounts.totalAccounts": 1, "Accounts.qualifiedAccounts": 1},
        {key: None, "Accounts.totalAccounts": 1, "Accounts.qualifiedAccounts": 0},
    ]
    pro = fanout_expect(defn, data, {**q, "filters": [{"member": "Accounts.plan", "operator": "equals",
                                                       "values": ["pro"]}]}, t)
    assert sorted(pro, key=lambda r: (r[key] is None, str(r[key]))) == [
        {key: "a", "Accounts.totalAccounts": 1, "Accounts.qualifiedAccounts": 1},
        {key: "b", "Accounts.totalAccounts": 1, "Accounts.qualifiedAccounts": 1},
        {key: None, "Accounts.totalAccounts": 1, "Accounts.qualifiedAccounts": 0},
    ]


def test_builtin_engine_reports_mixed_cube_queries_unsupported(tmp_path: Path) -> None:
    """No Node needed: the builtin engine does not guess at Cube's join planning."""
    (tmp_path / "activation.yml").write_text(dump(HAND_DEFN), encoding="utf-8")
    query = {"measures": ["Accounts.totalAccounts"], "dimensions": ["MilestoneCompletionLogs.milestoneName"]}
    fixture = {"tables": HAND_DATA, "queries": [
        {"query": query, "expect": fanout_expect(HAND_DEFN, HAND_DATA, query, datetime(2026, 2, 1))},
        {"query": {"measures": ["Accounts.totalAccounts"]}, "expect": [{"Accounts.totalAccounts": 3}]}]}
    (tmp_path / "fixture.yml").write_text(dump(fixture), encoding="utf-8")
    report = verify(load_definition(tmp_path / "activation.yml"), [tmp_path / "fixture.yml"])
    mixed, plain = report.results
    assert (mixed.status, plain.status) == ("unsupported", "pass")
    assert "--engine cube" in mixed.message and not mixed.actual
