"""Hand-computed cases that pin the independent oracle (tests/oracle.py) to SPEC §3."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oracle import Unsupported, answer, derive_key, member_name, normalize

T0 = datetime(2026, 1, 5, 10, 0, 0)  # a Monday
DAY = timedelta(days=1)
NOW = datetime(2026, 12, 1)

TOTAL, QUAL, PCT = "Accounts.totalAccounts", "Accounts.qualifiedAccounts", "Accounts.percentQualified"
HEADLINE = {"measures": [TOTAL, QUAL, PCT]}


def definition(**overrides):
    defn = {
        "version": 1,
        "name": "t",
        "accounts": {
            "sql_table": "accounts",
            "dimensions": [
                {"name": "plan", "sql": "plan", "type": "string"},
                {"name": "seats", "sql": "seats", "type": "number"},
            ],
        },
        "milestone_logs": {"sql_table": "logs", "user_id": "user_id"},
        "milestone_sets": [{"name": "core", "milestones": ["a", "b", "c"], "within_days": 14}],
    }
    defn.update(overrides)
    return defn


def acct(pk, created=T0, plan="free", seats=1):
    return {"id": pk, "created_at": created, "plan": plan, "seats": seats}


_ids = iter(range(1, 10**9))


def log(account, milestone, at, user=None, pk="auto"):
    return {
        "id": f"l{next(_ids)}" if pk == "auto" else pk,
        "account_id": account,
        "milestone_name": milestone,
        "completion_date": at,
        "user_id": user,
    }


def run(accounts, logs, query=HEADLINE, defn=None, now=NOW):
    return answer(defn or definition(), {"accounts": accounts, "logs": logs}, query, now=now)


def one(accounts, logs, query=HEADLINE, defn=None, now=NOW):
    rows = run(accounts, logs, query, defn, now)
    assert len(rows) == 1, rows
    return rows[0]


def full(account, at=T0 + DAY):
    return [log(account, m, at) for m in ("a", "b", "c")]


# ---------------------------------------------------------------------------- normalize


def test_normalize_applies_the_spec_defaults():
    nd = normalize(
        {
            "version": 1,
            "name": "x",
            "accounts": {"sql_table": "accounts"},
            "milestone_logs": {"sql_table": "logs"},
            "milestone_sets": [
                {
                    "name": "core",
                    "milestones": [
                        "create_workspace",
                        {"value": "Invite a teammate", "key": "invite_teammate", "title": "Invite"},
                        {"value": "Share a file!"},
                    ],
                }
            ],
        }
    )
    assert nd["naming"] == "camel" and nd["percent_scale"] == 100 and nd["dialect"] == "duckdb"
    assert nd["accounts"] == {
        "cube": "Accounts",
        "sql_table": "accounts",
        "sql": None,
        "primary_key": "id",
        "created_at": "created_at",
        "dimensions": [],
    }
    logs = nd["milestone_logs"]
    assert logs["cube"] == "MilestoneCompletionLogs"
    assert (logs["primary_key"], logs["account_id"], logs["milestone"], logs["completed_at"], logs["user_id"]) == (
        "id",
        "account_id",
        "milestone_name",
        "completion_date",
        None,
    )
    s = nd["milestone_sets"][0]
    assert s["require"] == "all" and s["required"] == 3 and s["within_days"] is None
    assert [(m["value"], m["key"]) for m in s["milestones"]] == [
        ("create_workspace", "create_workspace"),
        ("Invite a teammate", "invite_teammate"),
        ("Share a file!", "share_a_file"),
    ]
    assert normalize(nd) == nd  # idempotent


@pytest.mark.parametrize(
    ("value", "position", "key"),
    [
        ("create_workspace", 1, "create_workspace"),
        ("Café", 1, "cafe"),
        ("Invite a teammate", 2, "invite_a_teammate"),
        ("  --Hello, World!--  ", 1, "hello_world"),
        ("1st request", 1, "m_1st_request"),
        ("!!!", 3, "milestone_3"),
        ("日本", 2, "milestone_2"),
        ("it's {live} `now` $x", 1, "it_s_live_now_x"),
    ],
)
def test_derived_keys(value, position, key):
    assert derive_key(value, position) == key


def test_require_forms():
    sets = normalize(
        definition(
            milestone_sets=[
                {"name": "x", "milestones": ["a", "b", "c"], "require": "any"},
                {"name": "y", "milestones": ["a", "b", "c"], "require": 2},
            ]
        )
    )["milestone_sets"]
    assert [s["required"] for s in sets] == [1, 2]
    with pytest.raises(ValueError):
        normalize(definition(milestone_sets=[{"name": "x", "milestones": ["a"], "require": 2}]))


def test_member_names():
    assert member_name("camel", "free_trial", "create_workspace", "accounts") == "freeTrialCreateWorkspaceAccounts"
    assert member_name("snake", "free_trial", "create_workspace", "accounts") == "free_trial_create_workspace_accounts"
    assert member_name("camel", "percent_qualified") == "percentQualified"
    assert member_name("snake", "core", "step_2", "percent") == "core_step_2_percent"
    assert member_name("camel", "core", "step_2", "percent") == "coreStep2Percent"


# ---------------------------------------------------------------------------- §3 semantics


def test_window_boundary_is_exclusive():
    edge = T0 + 14 * DAY
    logs = [log("x", "a", T0 + DAY), log("x", "b", T0 + DAY), log("x", "c", edge)]
    assert one([acct("x")], logs) == {TOTAL: 1, QUAL: 0, PCT: 0.0}
    logs.append(log("x", "c", edge - timedelta(microseconds=1)))
    assert one([acct("x")], logs) == {TOTAL: 1, QUAL: 1, PCT: 100.0}
    row = one([acct("x")], logs, {"dimensions": ["Accounts.coreActivatedAt"]})
    assert row == {"Accounts.coreActivatedAt": edge - timedelta(microseconds=1)}


def test_log_before_created_at_counts():
    logs = [log("x", "a", T0 - 30 * DAY), log("x", "b", T0 - timedelta(seconds=1)), log("x", "c", T0)]
    assert one([acct("x")], logs)[QUAL] == 1


def test_null_created_at_never_completes_with_a_window():
    defn = definition(
        milestone_sets=[
            {"name": "core", "milestones": ["a", "b", "c"], "within_days": 14},
            {"name": "open", "milestones": ["a", "b", "c"]},
        ]
    )
    q = {
        "measures": [TOTAL, QUAL, "Accounts.openQualifiedAccounts"],
        "dimensions": ["Accounts.coreMilestonesCompleted", "Accounts.coreWindowClosed"],
    }
    row = one([acct("x", created=None)], full("x"), q, defn)
    assert row == {
        TOTAL: 1,
        QUAL: 0,
        "Accounts.openQualifiedAccounts": 1,
        "Accounts.coreMilestonesCompleted": 0,
        "Accounts.coreWindowClosed": None,
    }


def test_null_completion_time_is_ignored():
    logs = [log("x", "a", T0), log("x", "b", T0), log("x", "c", None)]
    row = one([acct("x")], logs, {"measures": [QUAL], "dimensions": ["Accounts.coreMilestonesCompleted"]})
    assert row == {QUAL: 0, "Accounts.coreMilestonesCompleted": 2}


def test_duplicate_logs_count_once():
    logs = [log("x", "a", T0)] * 3 + [log("x", "a", T0 + DAY), log("x", "b", T0), log("x", "b", T0)]
    row = one([acct("x")], logs, {"measures": [QUAL], "dimensions": ["Accounts.coreMilestonesCompleted"]})
    assert row == {QUAL: 0, "Accounts.coreMilestonesCompleted": 2}


def test_orphan_logs_and_null_account_ids_are_ignored():
    logs = [*full("ghost"), log(None, "a", T0), log("x", "a", T0)]
    assert one([acct("x")], logs) == {TOTAL: 1, QUAL: 0, PCT: 0.0}
    assert run([acct("x")], logs, {"measures": [TOTAL], "dimensions": ["Accounts.id"]}) == [{"Accounts.id": "x", TOTAL: 1}]


def test_null_primary_key_is_not_an_account():
    accounts = [acct("x"), acct(None)]
    assert one(accounts, full("x") + full(None)) == {TOTAL: 1, QUAL: 1, PCT: 100.0}


def test_values_match_exactly_and_case_sensitively():
    logs = [log("x", "a", T0), log("x", "b", T0), log("x", "C", T0), log("x", "c ", T0), log("x", "d", T0)]
    assert one([acct("x")], logs)[QUAL] == 0
    assert one([acct("x")], [*logs, log("x", "c", T0)])[QUAL] == 1


@pytest.mark.parametrize(("require", "qualified"), [("any", 1), ("all", 0), (1, 1), (2, 1), (3, 0)])
def test_require(require, qualified):
    defn = definition(milestone_sets=[{"name": "core", "milestones": ["a", "b", "c"], "require": require}])
    logs = [log("x", "a", T0), log("x", "c", T0)]
    assert one([acct("x"), acct("y")], logs, defn=defn)[QUAL] == qualified


@pytest.mark.parametrize(
    ("require", "within", "expected"),
    [
        ("any", None, T0 + 1 * DAY),  # first distinct milestone: a's FIRST completion
        (2, None, T0 + 2 * DAY),  # second distinct milestone: c (a's repeat on day 3 does not count)
        ("all", None, T0 + 7 * DAY),  # third: b
        ("all", 5, None),  # b on day 7 is outside a 5-day window: not activated
        (2, 5, T0 + 2 * DAY),
    ],
)
def test_activation_time_is_the_nth_distinct_milestone_first_completion(require, within, expected):
    s = {"name": "core", "milestones": ["a", "b", "c"], "require": require}
    if within:
        s["within_days"] = within
    logs = [
        log("x", "a", T0 + 3 * DAY),
        log("x", "a", T0 + 1 * DAY),
        log("x", "b", T0 + 7 * DAY),
        log("x", "c", T0 + 2 * DAY),
        log("x", "c", None),
    ]
    q = {"dimensions": ["Accounts.coreActivated", "Accounts.coreActivatedAt"]}
    row = one([acct("x")], logs, q, definition(milestone_sets=[s]))
    assert row == {"Accounts.coreActivated": expected is not None, "Accounts.coreActivatedAt": expected}


def test_contributing_users():
    logs = [
        log("x", "a", T0, "u1"),
        log("x", "b", T0, "u1"),  # same user twice
        log("x", "c", T0 + 20 * DAY, "u2"),  # outside the window
        log("x", "zzz", T0, "u3"),  # not a milestone of the set
        log("x", "b", None, "u4"),  # no completion time
        log("x", "a", T0 - DAY, "u5"),  # before creation: qualifying
        log("x", "b", T0, None),  # no user
        log("y", "a", T0, "u6"),  # another account
    ]
    rows = run(
        [acct("x"), acct("y"), acct("z")],
        logs,
        {"dimensions": ["Accounts.id", "Accounts.coreContributingUsers"], "order": {"Accounts.id": "asc"}},
    )
    assert rows == [
        {"Accounts.id": "x", "Accounts.coreContributingUsers": 2},
        {"Accounts.id": "y", "Accounts.coreContributingUsers": 1},
        {"Accounts.id": "z", "Accounts.coreContributingUsers": 0},
    ]
    no_users = definition(milestone_logs={"sql_table": "logs"})
    with pytest.raises(ValueError):
        run([acct("x")], logs, {"dimensions": ["Accounts.coreContributingUsers"]}, no_users)


def test_percent_scale_1_and_100():
    accounts = [acct(p) for p in "wxyz"]
    assert one(accounts, full("x"))[PCT] == 25.0
    assert one(accounts, full("x"), defn=definition(percent_scale=1))[PCT] == 0.25
    three = [acct(p) for p in "xyz"]
    assert one(three, full("x"))[PCT] == 100 / 3


def test_per_set_and_per_milestone_measures():
    defn = definition(
        milestone_sets=[
            {"name": "core", "milestones": ["a", "b", "c"], "within_days": 14},
            {
                "name": "free_trial",
                "milestones": [{"value": "Create workspace!", "key": "create_workspace"}, "b"],
                "require": "any",
            },
        ]
    )
    accounts = [acct(p) for p in "wxyz"]
    logs = [
        *full("x"),
        log("y", "a", T0 + 20 * DAY),
        log("y", "Create workspace!", T0 + 20 * DAY),
        log("z", "b", T0),
    ]
    q = {
        "measures": [
            "Accounts.coreQualifiedAccounts",
            "Accounts.corePercentQualified",
            "Accounts.coreAAccounts",
            "Accounts.coreAPercent",
            "Accounts.coreBAccounts",
            "Accounts.coreCAccounts",
            "Accounts.freeTrialQualifiedAccounts",
            "Accounts.freeTrialPercentQualified",
            "Accounts.freeTrialCreateWorkspaceAccounts",
            "Accounts.freeTrialCreateWorkspacePercent",
            "Accounts.freeTrialBAccounts",
        ]
    }
    assert one(accounts, logs, q, defn) == {
        "Accounts.coreQualifiedAccounts": 1,
        "Accounts.corePercentQualified": 25.0,
        "Accounts.coreAAccounts": 1,  # y's a is late
        "Accounts.coreAPercent": 25.0,
        "Accounts.coreBAccounts": 2,
        "Accounts.coreCAccounts": 1,
        "Accounts.freeTrialQualifiedAccounts": 3,  # x via b, y via the late workspace (no window), z
        "Accounts.freeTrialPercentQualified": 75.0,
        "Accounts.freeTrialCreateWorkspaceAccounts": 1,
        "Accounts.freeTrialCreateWorkspacePercent": 25.0,
        "Accounts.freeTrialBAccounts": 2,
    }


def test_snake_naming():
    defn = definition(naming="snake")
    q = {
        "measures": [
            "Accounts.total_accounts",
            "Accounts.qualified_accounts",
            "Accounts.percent_qualified",
            "Accounts.core_a_accounts",
            "Accounts.core_percent_qualified",
        ],
        "dimensions": ["Accounts.core_milestones_completed"],
        "timeDimensions": [{"dimension": "Accounts.created_at", "granularity": "month"}],
    }
    row = one([acct("x")], full("x"), q, defn)
    assert row == {
        "Accounts.core_milestones_completed": 3,
        "Accounts.created_at.month": datetime(2026, 1, 1),
        "Accounts.total_accounts": 1,
        "Accounts.qualified_accounts": 1,
        "Accounts.percent_qualified": 100.0,
        "Accounts.core_a_accounts": 1,
        "Accounts.core_percent_qualified": 100.0,
    }
    with pytest.raises(ValueError):
        run([acct("x")], [], HEADLINE, defn)  # camel names do not exist under snake


def test_custom_cube_and_column_names():
    defn = {
        "version": 1,
        "name": "t",
        "accounts": {"cube": "Orgs", "sql": "SELECT * FROM orgs", "primary_key": "org_id", "created_at": "signup"},
        "milestone_logs": {
            "cube": "Events",
            "sql_table": "events",
            "primary_key": "event_id",
            "account_id": "org",
            "milestone": "name",
            "completed_at": "ts",
        },
        "milestone_sets": [{"name": "core", "milestones": ["a"], "within_days": 1}],
    }
    tables = {
        "orgs": [{"org_id": 1, "signup": T0}, {"org_id": 2, "signup": T0}],
        "events": [
            {"event_id": 1, "org": 1, "name": "a", "ts": T0},
            {"event_id": 2, "org": 2, "name": "a", "ts": T0 + DAY},
        ],
    }
    q = {"measures": ["Orgs.totalAccounts", "Orgs.percentQualified"]}
    assert answer(defn, tables, q) == [{"Orgs.totalAccounts": 2, "Orgs.percentQualified": 50.0}]
    q = {"measures": ["Events.totalMilestonesCompleted"], "dimensions": ["Events.milestoneName"]}
    assert answer(defn, tables, q) == [{"Events.milestoneName": "a", "Events.totalMilestonesCompleted": 2}]


# ---------------------------------------------------------------------------- slices


def test_grouping_by_month_including_null_created_at():
    accounts = [
        acct("j1", datetime(2026, 1, 1, 0, 0)),
        acct("j2", datetime(2026, 1, 31, 23, 59, 59)),
        acct("f1", datetime(2026, 2, 1)),
        acct("n", None),
    ]
    logs = full("j1") + full("f1") + full("n")
    rows = run(accounts, logs, {**HEADLINE, "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "month"}]})
    month = "Accounts.createdAt.month"
    assert rows == [
        {month: datetime(2026, 1, 1), TOTAL: 2, QUAL: 1, PCT: 50.0},
        {month: datetime(2026, 2, 1), TOTAL: 1, QUAL: 1, PCT: 100.0},
        {month: None, TOTAL: 1, QUAL: 0, PCT: 0.0},
    ]


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [
        ("day", datetime(2026, 1, 7)),
        ("week", datetime(2026, 1, 5)),  # ISO week starts on Monday
        ("month", datetime(2026, 1, 1)),
        ("quarter", datetime(2026, 1, 1)),
        ("year", datetime(2026, 1, 1)),
    ],
)
def test_granularities(granularity, expected):
    row = one(
        [acct("x", datetime(2026, 1, 7, 13, 30))],
        [],
        {"measures": [TOTAL], "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": granularity}]},
    )
    assert row[f"Accounts.createdAt.{granularity}"] == expected
    sunday = one(
        [acct("x", datetime(2026, 1, 11, 23, 0))],
        [],
        {"measures": [TOTAL], "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "week"}]},
    )
    assert sunday["Accounts.createdAt.week"] == datetime(2026, 1, 5)
    q3 = one(
        [acct("x", datetime(2026, 9, 30, 23, 0))],
        [],
        {"measures": [TOTAL], "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "quarter"}]},
    )
    assert q3["Accounts.createdAt.quarter"] == datetime(2026, 7, 1)


def test_grouping_by_plan_and_by_milestones_completed():
    accounts = [acct("x", plan="team"), acct("y", plan="team"), acct("z", plan="free")]
    logs = [*full("x"), log("y", "a", T0)]
    by_plan = run(accounts, logs, {**HEADLINE, "dimensions": ["Accounts.plan"]})
    assert sorted(by_plan, key=lambda r: r["Accounts.plan"]) == [
        {"Accounts.plan": "free", TOTAL: 1, QUAL: 0, PCT: 0.0},
        {"Accounts.plan": "team", TOTAL: 2, QUAL: 1, PCT: 50.0},
    ]
    by_count = run(
        accounts,
        logs,
        {
            "measures": [TOTAL],
            "dimensions": ["Accounts.coreMilestonesCompleted"],
            "order": [["Accounts.coreMilestonesCompleted", "asc"]],
        },
    )
    assert by_count == [
        {"Accounts.coreMilestonesCompleted": 0, TOTAL: 1},
        {"Accounts.coreMilestonesCompleted": 1, TOTAL: 1},
        {"Accounts.coreMilestonesCompleted": 3, TOTAL: 1},
    ]


def _ids_for(accounts, logs, filters=(), segments=(), time_dims=()):
    q = {
        "dimensions": ["Accounts.id"],
        "filters": list(filters),
        "segments": list(segments),
        "timeDimensions": list(time_dims),
    }
    return sorted(r["Accounts.id"] for r in run(accounts, logs, q))


def test_filters():
    accounts = [
        acct("p", datetime(2026, 1, 31, 23, 59, 59), plan="team", seats=3),
        acct("q", datetime(2026, 2, 1, 0, 0, 0), plan="free", seats=10),
        acct("r", datetime(2026, 3, 15), plan=None, seats=None),
        acct("s", None, plan="business", seats=2),
    ]
    logs = [*full("p"), log("q", "a", datetime(2026, 2, 2))]
    f = _ids_for
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "equals", "values": ["team"]}]) == ["p"]
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "equals", "values": ["team", "free"]}]) == ["p", "q"]
    # notEquals keeps NULLs, like Cube's `x <> v OR x IS NULL`
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "notEquals", "values": ["team"]}]) == ["q", "r", "s"]
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "set"}]) == ["p", "q", "s"]
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "notSet"}]) == ["r"]
    assert f(accounts, logs, [{"member": "Accounts.plan", "operator": "contains", "values": ["EA"]}]) == ["p"]
    # numbers compare numerically, not as strings ("10" < "3" as text)
    assert f(accounts, logs, [{"member": "Accounts.seats", "operator": "gt", "values": ["3"]}]) == ["q"]
    assert f(accounts, logs, [{"member": "Accounts.seats", "operator": "gte", "values": ["3"]}]) == ["p", "q"]
    assert f(accounts, logs, [{"member": "Accounts.seats", "operator": "lt", "values": ["3"]}]) == ["s"]
    assert f(accounts, logs, [{"member": "Accounts.seats", "operator": "lte", "values": ["3"]}]) == ["p", "s"]
    cnt = "Accounts.coreMilestonesCompleted"
    assert f(accounts, logs, [{"member": cnt, "operator": "gte", "values": ["1"]}]) == ["p", "q"]
    assert f(accounts, logs, [{"member": cnt, "operator": "equals", "values": ["0"]}]) == ["r", "s"]
    # booleans as 'true' / 'false'
    assert f(accounts, logs, [{"member": "Accounts.coreActivated", "operator": "equals", "values": ["true"]}]) == ["p"]
    assert f(accounts, logs, [{"member": "Accounts.coreActivated", "operator": "equals", "values": ["false"]}]) == [
        "q",
        "r",
        "s",
    ]
    # date-only `to` runs through the end of that day; NULL times never match
    jan = [{"member": "Accounts.createdAt", "operator": "inDateRange", "values": ["2026-01-01", "2026-01-31"]}]
    assert f(accounts, logs, jan) == ["p"]
    assert f(accounts, logs, time_dims=[{"dimension": "Accounts.createdAt", "dateRange": ["2026-01-31", "2026-02-01"]}]) == [
        "p",
        "q",
    ]
    not_jan = [{"member": "Accounts.createdAt", "operator": "notInDateRange", "values": ["2026-01-01", "2026-01-31"]}]
    assert f(accounts, logs, not_jan) == ["q", "r"]
    assert f(accounts, logs, [{"member": "Accounts.createdAt", "operator": "beforeDate", "values": ["2026-02-01"]}]) == ["p"]
    assert f(accounts, logs, [{"member": "Accounts.createdAt", "operator": "afterDate", "values": ["2026-02-01"]}]) == ["r"]
    # nested groups
    group = {
        "or": [
            {"member": "Accounts.plan", "operator": "equals", "values": ["business"]},
            {
                "and": [
                    {"member": "Accounts.seats", "operator": "gt", "values": ["5"]},
                    {"member": "Accounts.createdAt", "operator": "afterDate", "values": ["2026-01-15"]},
                ]
            },
        ]
    }
    assert f(accounts, logs, [group]) == ["q", "s"]


def test_segments_and_window_closed():
    accounts = [acct("x", T0), acct("y", T0 + 20 * DAY), acct("z", None)]
    logs = full("x")
    now = T0 + 14 * DAY  # x's window closes exactly now, y's not yet
    q = {"dimensions": ["Accounts.id", "Accounts.coreWindowClosed"], "order": {"Accounts.id": "asc"}}
    assert run(accounts, logs, q, now=now) == [
        {"Accounts.id": "x", "Accounts.coreWindowClosed": True},
        {"Accounts.id": "y", "Accounts.coreWindowClosed": False},
        {"Accounts.id": "z", "Accounts.coreWindowClosed": None},
    ]
    mature = one(accounts, logs, {"measures": [TOTAL], "segments": ["Accounts.coreMature"]}, now=now)
    assert mature == {TOTAL: 1}
    assert one(accounts, logs, {"measures": [TOTAL], "segments": ["Accounts.qualified"]}) == {TOTAL: 1}
    assert one(accounts, logs, {"measures": [TOTAL], "segments": ["Accounts.coreQualified"]}) == {TOTAL: 1}
    open_set = definition(milestone_sets=[{"name": "core", "milestones": ["a"]}])
    with pytest.raises(ValueError):  # no window: no {s}Mature, no {s}WindowClosed
        run(accounts, logs, {"measures": [TOTAL], "segments": ["Accounts.coreMature"]}, open_set)


def test_empty_slice():
    accounts = [acct("x", plan="team")]
    none = [{"member": "Accounts.plan", "operator": "equals", "values": ["enterprise"]}]
    assert run(accounts, full("x"), {**HEADLINE, "filters": none}) == [{TOTAL: 0, QUAL: 0, PCT: None}]
    assert run([], [], HEADLINE) == [{TOTAL: 0, QUAL: 0, PCT: None}]
    assert run(accounts, full("x"), {**HEADLINE, "filters": none, "dimensions": ["Accounts.plan"]}) == []
    assert run([], [], {"measures": ["MilestoneCompletionLogs.totalMilestonesCompleted"]}) == [
        {"MilestoneCompletionLogs.totalMilestonesCompleted": 0}
    ]


def test_measure_filters_order_and_limit():
    accounts = [acct("a1", plan="team"), acct("a2", plan="team"), acct("a3", plan="free"), acct("a4", plan="biz")]
    logs = full("a1") + full("a3")
    q = {"measures": [TOTAL, PCT], "dimensions": ["Accounts.plan"], "order": {PCT: "desc", "Accounts.plan": "asc"}}
    assert [r["Accounts.plan"] for r in run(accounts, logs, q)] == ["free", "team", "biz"]
    assert [r["Accounts.plan"] for r in run(accounts, logs, {**q, "limit": 2})] == ["free", "team"]
    having = {**q, "filters": [{"member": PCT, "operator": "gt", "values": ["0"]}]}
    assert [r["Accounts.plan"] for r in run(accounts, logs, having)] == ["free", "team"]
    # Cube's default order: first measure descending
    default = run(accounts, logs, {"measures": [TOTAL], "dimensions": ["Accounts.plan"]})
    assert default[0] == {"Accounts.plan": "team", TOTAL: 2}


def test_logs_cube():
    accounts = [acct("x")]
    logs = [
        log("x", "a", T0),
        log("x", "a", T0),
        log("ghost", "b", T0),  # orphan: still a log row
        log("x", "c", None),
        log("x", "b", T0, pk=None),  # no id: not counted
    ]
    measure = "MilestoneCompletionLogs.totalMilestonesCompleted"
    assert run(accounts, logs, {"measures": [measure]}) == [{measure: 4}]
    rows = run(
        accounts,
        logs,
        {
            "measures": [measure],
            "dimensions": ["MilestoneCompletionLogs.milestoneName"],
            "order": {"MilestoneCompletionLogs.milestoneName": "asc"},
        },
    )
    assert rows == [
        {"MilestoneCompletionLogs.milestoneName": "a", measure: 2},
        {"MilestoneCompletionLogs.milestoneName": "b", measure: 1},
        {"MilestoneCompletionLogs.milestoneName": "c", measure: 1},
    ]
    dated = run(
        accounts,
        logs,
        {
            "measures": [measure],
            "timeDimensions": [{"dimension": "MilestoneCompletionLogs.completionDate", "granularity": "day"}],
        },
    )
    assert dated == [
        {"MilestoneCompletionLogs.completionDate.day": datetime(2026, 1, 5), measure: 3},
        {"MilestoneCompletionLogs.completionDate.day": None, measure: 1},
    ]
    # the logs cube's user as an unfiltered dimension
    users = run(
        accounts, [log("x", "a", T0, "u1")], {"measures": [measure], "dimensions": ["MilestoneCompletionLogs.userId"]}
    )
    assert users == [{"MilestoneCompletionLogs.userId": "u1", measure: 1}]


def test_mixing_cubes_is_unsupported():
    with pytest.raises(Unsupported):
        run([acct("x")], full("x"), {"measures": [TOTAL], "dimensions": ["MilestoneCompletionLogs.milestoneName"]})
    with pytest.raises(Unsupported):
        run(
            [acct("x")],
            full("x"),
            {"measures": ["MilestoneCompletionLogs.totalMilestonesCompleted"], "dimensions": ["Accounts.plan"]},
        )


def test_unknown_member():
    with pytest.raises(ValueError):
        run([acct("x")], [], {"measures": ["Accounts.nope"]})


def test_speed_5000_accounts_20000_logs():
    import random

    rng = random.Random(7)
    accounts = [
        acct(f"a{i}", T0 + timedelta(hours=rng.randrange(24 * 150)), rng.choice(["free", "team"])) for i in range(5000)
    ]
    logs = [
        log(
            f"a{rng.randrange(5000)}",
            rng.choice("abcd"),
            T0 + timedelta(hours=rng.randrange(24 * 170)),
            f"u{rng.randrange(900)}",
        )
        for _ in range(20000)
    ]
    q = {
        **HEADLINE,
        "dimensions": ["Accounts.plan"],
        "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "month"}],
    }
    started = time.perf_counter()
    rows = run(accounts, logs, q)
    elapsed = time.perf_counter() - started
    assert sum(r[TOTAL] for r in rows) == 5000
    assert elapsed < 1.0, elapsed
