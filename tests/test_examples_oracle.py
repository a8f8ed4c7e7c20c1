"""The committed example fixtures agree with the independent oracle, over the committed CSVs.

`examples/make_data.py` writes each example's CSVs and computes its fixture expectations with
tests/oracle.py. This test re-reads everything from disk on its own (csv module, no DuckDB),
so an expectation can't drift from its data, and it checks that the data really is
adversarial: every classic mistake in computing the metric changes some example's headline.
"""

from __future__ import annotations

import csv
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oracle import answer, normalize

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ["team_collaboration", "crm_onboarding", "developer_api"]
NOW = datetime(2026, 12, 1)  # every example window closed long before; any later date gives the same answers
HEADLINE = {"measures": ["Accounts.totalAccounts", "Accounts.qualifiedAccounts", "Accounts.percentQualified"]}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("T", " "))


def load_example(name: str) -> tuple[dict, dict, dict]:
    folder = EXAMPLES / name
    defn = yaml.safe_load((folder / "activation.yml").read_text(encoding="utf-8"))
    fixture = yaml.safe_load((folder / "fixture.yml").read_text(encoding="utf-8"))
    nd = normalize(defn)
    time_columns = {
        nd["accounts"]["sql_table"]: {nd["accounts"]["created_at"]}
        | {d["sql"] for d in nd["accounts"]["dimensions"] if d["type"] == "time"},
        nd["milestone_logs"]["sql_table"]: {nd["milestone_logs"]["completed_at"]},
    }
    tables = {}
    for table, source in fixture["tables"].items():
        if isinstance(source, list):
            tables[table] = source
            continue
        assert str(source).endswith(".csv"), source
        with (folder / source).open(newline="", encoding="utf-8") as fh:
            rows = []
            for raw in csv.DictReader(fh):
                row = {k: (None if v == "" else v) for k, v in raw.items()}
                for col in time_columns.get(table, ()):
                    if row.get(col) is not None:
                        row[col] = parse_time(row[col])
                rows.append(row)
        tables[table] = rows
    return defn, tables, fixture


def same_value(expected, actual) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(actual, datetime):
        if isinstance(expected, str):
            expected = parse_time(expected)
        return expected == actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=0.0) or expected == actual
    return expected == actual


def same_row(expected: dict, actual: dict) -> bool:
    return set(expected) == set(actual) and all(same_value(expected[k], actual[k]) for k in expected)


def assert_rows(expected: list[dict], actual: list[dict], ordered: bool, label: str) -> None:
    assert len(expected) == len(actual), f"{label}: {len(expected)} expected rows, got {len(actual)}: {actual}"
    if ordered:
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert same_row(e, a), f"{label}: row {i}: expected {e}, got {a}"
        return
    unmatched = list(actual)
    for e in expected:
        hit = next((a for a in unmatched if same_row(e, a)), None)
        assert hit is not None, f"{label}: no row matches {e} among {unmatched}"
        unmatched.remove(hit)


CASES = [(name, i) for name in NAMES for i in range(len(load_example(name)[2]["queries"]))]


@pytest.fixture(scope="module")
def examples():
    return {name: load_example(name) for name in NAMES}


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_fixture_expectation_matches_the_oracle(examples, name, index):
    defn, tables, fixture = examples[name]
    entry = fixture["queries"][index]
    actual = answer(defn, tables, entry["query"], now=NOW)
    assert_rows(entry["expect"], actual, "order" in entry["query"], f"{name} query {index}")


@pytest.mark.parametrize("name", NAMES)
def test_fixture_shape(examples, name):
    defn, tables, fixture = examples[name]
    assert defn["version"] == 1 and defn["name"] == name and defn.get("description")
    assert defn["accounts"]["sql_table"] == "accounts"
    assert defn["milestone_logs"]["sql_table"] == "milestone_completion_logs"
    assert fixture["tables"] == {"accounts": "accounts.csv", "milestone_completion_logs": "milestone_completion_logs.csv"}
    assert 8 <= len(fixture["queries"]) <= 12
    assert len(tables["accounts"]) <= 1000 and len(tables["milestone_completion_logs"]) <= 5000
    measures = {m for q in fixture["queries"] for m in q["query"].get("measures", [])}
    nd = normalize(defn)
    for s in nd["milestone_sets"]:
        camel = s["name"].split("_")[0] + "".join(w.capitalize() for w in s["name"].split("_")[1:])
        assert f"Accounts.{camel}QualifiedAccounts" in measures and f"Accounts.{camel}PercentQualified" in measures
    assert "MilestoneCompletionLogs.totalMilestonesCompleted" in measures


def test_team_collaboration_is_the_seed_worked_example(examples):
    defn, tables, fixture = examples["team_collaboration"]
    assert len(tables["accounts"]) == 600
    assert answer(defn, tables, HEADLINE, now=NOW) == [
        {"Accounts.totalAccounts": 600, "Accounts.qualifiedAccounts": 360, "Accounts.percentQualified": 60.0}
    ]
    first = fixture["queries"][0]
    assert first["query"] == HEADLINE
    assert first["expect"] == [
        {"Accounts.totalAccounts": 600, "Accounts.qualifiedAccounts": 360, "Accounts.percentQualified": 60.0}
    ]


# ----------------------------------------------------------------------------------------
# The data is adversarial: each classic mistake changes a headline somewhere
# ----------------------------------------------------------------------------------------


def qualified_with(defn: dict, tables: dict, mistake: str | None) -> int:
    """The primary set's qualified count, computed naively, optionally with one mistake."""
    nd = normalize(defn)
    acc, lg, s = nd["accounts"], nd["milestone_logs"], nd["milestone_sets"][0]
    values = {m["value"] for m in s["milestones"]}
    n = s["within_days"]
    logs_by = {}
    for log in tables[lg["sql_table"]]:
        if mistake == "drop_logs_without_id" and log.get(lg["primary_key"]) is None:
            continue
        logs_by.setdefault(log.get(lg["account_id"]), []).append(log)
    count = 0
    for a in tables[acc["sql_table"]]:
        if a.get(acc["primary_key"]) is None:
            continue
        created = a.get(acc["created_at"])
        done = []
        for log in logs_by.get(a[acc["primary_key"]], []):
            value, at = log.get(lg["milestone"]), log.get(lg["completed_at"])
            if mistake == "case_insensitive":
                value = next((v for v in values if v.lower() == (value or "").lower()), value)
            if value not in values:
                continue
            if at is None:
                if mistake == "null_time_counts":  # as if NULL passed every test
                    done.append(value)
                continue
            if n is not None and mistake != "no_window":
                if created is None:
                    if mistake != "null_created_passes":
                        continue
                else:
                    end = created + timedelta(days=n)
                    if mistake == "inclusive_window" and at <= end:
                        pass
                    elif not at < end:
                        continue
                    if mistake == "lower_bound" and at < created:
                        continue
            done.append(value)
        completed = len(done) if mistake == "count_rows" else len(set(done))
        count += completed >= s["required"]
    return count


MISTAKES = [
    "inclusive_window",  # completed_at <= created_at + N days
    "lower_bound",  # logs before created_at ignored
    "count_rows",  # duplicate logs counted as distinct milestones
    "case_insensitive",  # milestone values compared case-insensitively
    "no_window",  # within_days ignored
    "null_created_passes",  # an account with no created_at passes the window
    "null_time_counts",  # a log with no completion time counts as completed
    "drop_logs_without_id",  # log rows with a NULL id ignored
]


def test_the_naive_count_agrees_with_the_oracle(examples):
    for name in NAMES:
        defn, tables, _ = examples[name]
        q = answer(defn, tables, HEADLINE, now=NOW)[0]["Accounts.qualifiedAccounts"]
        assert qualified_with(defn, tables, None) == q, name


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_changes_some_headline(examples, mistake):
    changed = [
        name
        for name in NAMES
        if qualified_with(examples[name][0], examples[name][1], mistake)
        != qualified_with(examples[name][0], examples[name][1], None)
    ]
    assert changed, f"no example catches the mistake {mistake!r}"
    if mistake != "drop_logs_without_id":
        assert "team_collaboration" in changed, changed
