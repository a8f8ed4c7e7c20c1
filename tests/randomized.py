"""Random definitions and data for property tests: boundaries, NULLs, duplicates, orphans."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

BASE = datetime(2026, 1, 30, 12, 0, 0)
VALUES = ["a", "b", "c", "it's", "A", "x y"]
PLANS = ["free", "pro", None]
KEYS = {"A": "upper_a", "it's": "its", "x y": "x_y"}


@st.composite
def definitions(draw: Any, values: list[str] | None = None) -> dict[str, Any]:
    pool = values or VALUES
    n_sets = draw(st.integers(1, 3))
    sets = []
    names = draw(st.lists(st.sampled_from(["core", "deep", "team_setup", "x1"]), min_size=n_sets,
                          max_size=n_sets, unique=True))
    for name in names:
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        ms = [{"value": v, "key": KEYS[v]} if v in KEYS else v for v in values]
        require = draw(st.one_of(st.sampled_from(["all", "any"]), st.integers(1, len(ms))))
        s: dict[str, Any] = {"name": name, "milestones": ms, "require": require}
        if draw(st.booleans()):
            s["within_days"] = draw(st.integers(1, 3))
        sets.append(s)
    d: dict[str, Any] = {
        "version": 1,
        "name": "random_def",
        "naming": draw(st.sampled_from(["camel", "snake"])),
        "percent_scale": draw(st.sampled_from([100, 1])),
        "accounts": {"sql_table": "accounts", "dimensions": [{"name": "plan", "sql": "plan", "type": "string"}]},
        "milestone_logs": {"sql_table": "milestone_completion_logs"},
        "milestone_sets": sets,
    }
    if draw(st.booleans()):
        d["milestone_logs"]["user_id"] = "user_id"
    return d


@st.composite
def tables(draw: Any, values: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    pool = values or VALUES
    n = draw(st.integers(0, 8))
    ids = [f"acc{i}" for i in range(n)]
    accounts = []
    created: dict[str, datetime | None] = {}
    for i, acc_id in enumerate(ids):
        c = None if draw(st.integers(0, 9)) == 0 else BASE + timedelta(days=draw(st.integers(0, 40)))
        created[acc_id] = c
        accounts.append({"id": acc_id if draw(st.integers(0, 12)) else None, "created_at": c,
                         "plan": draw(st.sampled_from(PLANS))})
        del i
    logs = []
    for k in range(draw(st.integers(0, 25))):
        acc = draw(st.sampled_from([*ids, "orphan"])) if ids else "orphan"
        anchor = created.get(acc) or BASE
        # offsets in half days, so some land exactly on created_at + N days
        offset = timedelta(hours=12 * draw(st.integers(-2, 8)))
        if draw(st.integers(0, 5)) == 0:
            offset -= timedelta(microseconds=1)
        t = None if draw(st.integers(0, 10)) == 0 else anchor + offset
        row = {"id": k, "account_id": acc, "milestone_name": draw(st.sampled_from([*pool, "other"])),
               "completion_date": t, "user_id": draw(st.sampled_from(["u1", "u2", "u3", None]))}
        logs.append(row)
        if draw(st.integers(0, 6)) == 0:
            logs.append(dict(row, id=k + 1000))
    return {"accounts": accounts, "milestone_completion_logs": logs}
