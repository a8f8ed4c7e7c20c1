"""The Cube engine: Cube's own compiler (Node) driven from Python.

These tests compile small hand-written Cube models (YAML and JS) with
``@cubejs-backend/schema-compiler`` 1.7.43 through ``cube_engine.render`` and run
the SQL Cube renders in DuckDB.

Placeholders in Cube's rendered SQL (values in ``result["params"]``, in order):

* DuckDB (``DuckDBQuery``): ``?`` positional, e.g. ``WHERE ("accounts".seats =
  CAST(? AS DOUBLE))`` or ``"accounts".created_at >= ?::timestamptz``. DuckDB's
  Python API takes them as they are: ``con.execute(sql, params)``.
* Postgres (``PostgresQuery``): ``$1``, ``$2``, ... numbered (libpq / asyncpg
  style; psycopg wants ``%s``, so ``$n`` -> ``%s`` and ``%`` -> ``%%`` there).

Cube's DuckDB SQL converts times with ``timezone('UTC', col::timestamptz)``; the
cast of a naive TIMESTAMP to TIMESTAMPTZ uses the session time zone, so the
connection must run with ``SET TimeZone = 'UTC'`` or buckets shift.

Without node or the installed packages the tests skip; with ``CI`` set they try
``cube_engine.setup`` and fail loudly if the engine still is not there.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from activation_semantic import cube_engine
from activation_semantic.cube_engine import CubeEngineFailed, CubeEngineUnavailable

duckdb = pytest.importorskip("duckdb")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def cube_ready() -> Path:
    """The installed Cube engine, or a skip (a failure under CI) saying why not."""
    in_ci = bool(os.environ.get("CI"))
    problem = None
    if not shutil.which("node"):
        problem = "node is not installed (Cube engine needs Node.js >= 20 and npm)"
    elif not cube_engine.is_installed():
        if in_ci:
            try:
                cube_engine.setup(io.StringIO())
            except Exception as exc:
                problem = f"cube_engine.setup() failed: {exc}"
        else:
            problem = (
                f"Cube packages are not installed in {cube_engine.node_dir()}: "
                "run 'activation-semantic cube-setup' (or python -c "
                "'from activation_semantic import cube_engine; cube_engine.setup()')"
            )
        if problem is None and not cube_engine.is_installed():
            problem = f"Cube packages still missing in {cube_engine.node_dir()} after setup"
    if problem:
        if in_ci:
            pytest.fail(f"Cube engine unavailable under CI: {problem}", pytrace=False)
        pytest.skip(f"Cube engine unavailable: {problem}")
    return cube_engine.node_dir()


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


ACCOUNTS = [
    # id, created_at, plan, seats
    ("a1", "2026-01-03 10:00:00", "pro", 3),
    ("a2", "2026-01-20 08:00:00", "free", 1),
    ("a3", "2026-01-31 23:30:00", "pro", 1),
    ("a4", "2026-02-02 12:00:00", "free", 5),
    ("a5", "2026-02-27 00:15:00", "pro", 2),
]
LOGS = [
    # id, account_id, milestone_name, completion_date
    ("l1", "a1", "create_workspace", "2026-01-03 11:00:00"),
    ("l2", "a1", "invite_teammate", "2026-01-04 09:00:00"),
    ("l3", "a1", "share_file", "2026-01-05 09:00:00"),
    ("l4", "a2", "create_workspace", "2026-01-21 09:00:00"),
    ("l5", "a3", "create_workspace", "2026-02-01 10:00:00"),
    ("l6", "a3", "invite_teammate", "2026-02-01 11:00:00"),
    ("l7", "a5", "create_workspace", "2026-02-27 09:00:00"),
]


@pytest.fixture()
def con():
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.execute("CREATE TABLE accounts (id VARCHAR, created_at TIMESTAMP, plan VARCHAR, seats INTEGER)")
    db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?)", ACCOUNTS)
    db.execute(
        "CREATE TABLE milestone_completion_logs "
        "(id VARCHAR, account_id VARCHAR, milestone_name VARCHAR, completion_date TIMESTAMP)"
    )
    db.executemany("INSERT INTO milestone_completion_logs VALUES (?, ?, ?, ?)", LOGS)
    yield db
    db.close()


def run_rows(con, result: dict) -> list[dict]:
    """Run one rendered query; rows keyed by Cube member name (REST style)."""
    assert result["error"] is None, result["error"]
    cur = con.execute(result["sql"], result["params"])
    names = [d[0] for d in cur.description]
    alias = result["aliasNameToMember"]
    return [{alias.get(n, n): v for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def _norm(rows: list[dict]) -> list[tuple]:
    out = []
    for row in rows:
        items = []
        for k, v in sorted(row.items()):
            if isinstance(v, float):
                v = round(v, 9)
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            items.append((k, v))
        out.append(tuple(items))
    return sorted(out, key=repr)


# ---------------------------------------------------------------- the seed's model

SEED_JS_ACCOUNTS = """\
cube('Accounts', {
  sql: `SELECT * FROM accounts`,

  joins: {
    MilestoneCompletionLogs: {
      relationship: 'hasMany',
      sql: `${CUBE}.id = ${MilestoneCompletionLogs}.account_id`
    }
  },

  measures: {
    totalAccounts: {
      sql: `id`,
      type: 'count',
      title: 'Total Accounts',
      description: 'Total number of new accounts entering the onboarding phase.'
    },
    qualifiedAccounts: {
      sql: `id`,
      type: 'countDistinct',
      title: 'Qualified Accounts',
      description: 'Number of accounts completing at least one key activation milestone.'
    },
    percentQualified: {
      sql: `100.0 * ${qualifiedAccounts} / NULLIF(${totalAccounts}, 0)`,
      type: 'number',
      title: 'Percent of Accounts Completing Key Activation Milestones',
      description: 'Proportion of accounts that reach predefined, high-value activation checkpoints.'
    },
    proAccounts: {
      type: 'count',
      title: 'Pro Accounts',
      filters: [{ sql: `${CUBE}.plan = 'pro'` }]
    },
    percentPro: {
      sql: `100.0 * ${proAccounts} / NULLIF(${totalAccounts}, 0)`,
      type: 'number',
      format: 'percent',
      title: 'Percent Pro'
    }
  },

  dimensions: {
    id: {
      sql: `id`,
      type: 'string',
      primaryKey: true,
      public: true,
      title: 'Account ID',
      description: 'Unique identifier for each account.'
    },
    createdAt: {
      sql: `created_at`,
      type: 'time',
      title: 'Account Creation Date',
      description: 'The date when the account was created.'
    },
    seats: {
      sql: `seats`,
      type: 'number',
      title: 'Seats'
    },
    isPro: {
      sql: `(${CUBE}.plan = 'pro')`,
      type: 'boolean',
      title: 'Is Pro'
    }
  }
});
"""

SEED_JS_LOGS = """\
cube('MilestoneCompletionLogs', {
  sql: `SELECT * FROM milestone_completion_logs`,

  measures: {
    totalMilestonesCompleted: {
      sql: `id`,
      type: 'count',
      title: 'Total Milestones Completed',
      description: 'Total number of milestones completed by accounts.'
    }
  },

  dimensions: {
    id: {
      sql: `id`,
      type: 'string',
      primaryKey: true,
      title: 'Log ID',
      description: 'Unique identifier for each milestone completion log.'
    },
    accountId: {
      sql: `account_id`,
      type: 'string',
      title: 'Account ID',
      description: 'Identifier for the account associated with the milestone completion.'
    },
    milestoneName: {
      sql: `milestone_name`,
      type: 'string',
      title: 'Milestone Name',
      description: 'Name of the completed milestone.'
    },
    completionDate: {
      sql: `completion_date`,
      type: 'time',
      title: 'Completion Date',
      description: 'The date when the milestone was completed.'
    }
  }
});
"""

SEED_YAML_ACCOUNTS = """\
# Generated for tests: the seed's Accounts cube in Cube YAML.
cubes:
  - name: Accounts
    sql: SELECT * FROM accounts
    joins:
      - name: MilestoneCompletionLogs
        relationship: one_to_many
        sql: "{CUBE}.id = {MilestoneCompletionLogs}.account_id"
    measures:
      - name: totalAccounts
        sql: id
        type: count
        title: Total Accounts
        description: Total number of new accounts entering the onboarding phase.
      - name: qualifiedAccounts
        sql: id
        type: count_distinct
        title: Qualified Accounts
        description: Number of accounts completing at least one key activation milestone.
      - name: percentQualified
        sql: "100.0 * {qualifiedAccounts} / NULLIF({totalAccounts}, 0)"
        type: number
        title: Percent of Accounts Completing Key Activation Milestones
        description: Proportion of accounts that reach predefined, high-value activation checkpoints.
      - name: proAccounts
        type: count
        title: Pro Accounts
        filters:
          - sql: "{CUBE}.plan = 'pro'"
      - name: percentPro
        sql: "100.0 * {proAccounts} / NULLIF({totalAccounts}, 0)"
        type: number
        format: percent
        title: Percent Pro
    dimensions:
      - name: id
        sql: id
        type: string
        primary_key: true
        public: true
        title: Account ID
        description: Unique identifier for each account.
      - name: createdAt
        sql: created_at
        type: time
        title: Account Creation Date
        description: The date when the account was created.
      - name: seats
        sql: seats
        type: number
        title: Seats
      - name: isPro
        sql: "({CUBE}.plan = 'pro')"
        type: boolean
        title: Is Pro
"""

SEED_YAML_LOGS = """\
cubes:
  - name: MilestoneCompletionLogs
    sql: SELECT * FROM milestone_completion_logs
    measures:
      - name: totalMilestonesCompleted
        sql: id
        type: count
        title: Total Milestones Completed
        description: Total number of milestones completed by accounts.
    dimensions:
      - name: id
        sql: id
        type: string
        primary_key: true
        title: Log ID
        description: Unique identifier for each milestone completion log.
      - name: accountId
        sql: account_id
        type: string
        title: Account ID
        description: Identifier for the account associated with the milestone completion.
      - name: milestoneName
        sql: milestone_name
        type: string
        title: Milestone Name
        description: Name of the completed milestone.
      - name: completionDate
        sql: completion_date
        type: time
        title: Completion Date
        description: The date when the milestone was completed.
"""

SIGNUPS_YAML = """\
cubes:
  - name: Signups
    sql_table: accounts
    public: false
    measures:
      - name: count
        type: count
      - name: proCount
        type: count
        filters:
          - sql: "{CUBE}.plan = 'pro'"
      - name: proShare
        sql: "100.0 * {proCount} / NULLIF({count}, 0)"
        type: number
        format: percent
      - name: distinctPlans
        sql: plan
        type: count_distinct
    dimensions:
      - name: id
        sql: id
        type: string
        primary_key: true
      - name: plan
        sql: plan
        type: string
      - name: createdAt
        sql: created_at
        type: time
    segments:
      - name: pro
        sql: "{CUBE}.plan = 'pro'"
    pre_aggregations:
      - name: daily
        type: rollup
        measures:
          - count
          - proCount
        time_dimension: createdAt
        granularity: day
"""

SIGNUPS_JS = """\
cube('Signups', {
  sqlTable: `accounts`,
  public: false,
  measures: {
    count: { type: 'count' },
    proCount: { type: 'count', filters: [{ sql: `${CUBE}.plan = 'pro'` }] },
    proShare: { sql: `100.0 * ${proCount} / NULLIF(${count}, 0)`, type: 'number', format: 'percent' },
    distinctPlans: { sql: `plan`, type: 'countDistinct' },
  },
  dimensions: {
    id: { sql: `id`, type: 'string', primaryKey: true },
    plan: { sql: `plan`, type: 'string' },
    createdAt: { sql: `created_at`, type: 'time' },
  },
  segments: {
    pro: { sql: `${CUBE}.plan = 'pro'` },
  },
  preAggregations: {
    daily: {
      type: 'rollup',
      measures: [CUBE.count, CUBE.proCount],
      timeDimension: CUBE.createdAt,
      granularity: 'day',
    },
  },
});
"""

MODELS = {
    "yaml": {
        "cubes/accounts.yml": SEED_YAML_ACCOUNTS,
        "cubes/milestone_completion_logs.yml": SEED_YAML_LOGS,
        "cubes/signups.yml": SIGNUPS_YAML,
    },
    "js": {
        "cubes/accounts.js": SEED_JS_ACCOUNTS,
        "cubes/milestone_completion_logs.js": SEED_JS_LOGS,
        "cubes/signups.js": SIGNUPS_JS,
    },
}

_MILESTONE = "MilestoneCompletionLogs.milestoneName"

# (query, expected rows keyed like Cube's REST API)
CASES = [
    (
        {"measures": ["Accounts.totalAccounts", "Accounts.qualifiedAccounts", "Accounts.percentQualified"]},
        [{"Accounts.totalAccounts": 5, "Accounts.qualifiedAccounts": 5, "Accounts.percentQualified": 100.0}],
    ),
    (
        {
            "measures": ["Accounts.proAccounts", "Accounts.percentPro"],
            "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "month"}],
        },
        [
            {"Accounts.createdAt.month": "2026-01-01T00:00:00", "Accounts.proAccounts": 2, "Accounts.percentPro": 200 / 3},
            {"Accounts.createdAt.month": "2026-02-01T00:00:00", "Accounts.proAccounts": 1, "Accounts.percentPro": 50.0},
        ],
    ),
    (
        {
            "measures": ["Accounts.totalAccounts"],
            "timeDimensions": [{"dimension": "Accounts.createdAt", "granularity": "week"}],
        },
        [
            {"Accounts.createdAt.week": "2025-12-29T00:00:00", "Accounts.totalAccounts": 1},
            {"Accounts.createdAt.week": "2026-01-19T00:00:00", "Accounts.totalAccounts": 1},
            {"Accounts.createdAt.week": "2026-01-26T00:00:00", "Accounts.totalAccounts": 1},
            {"Accounts.createdAt.week": "2026-02-02T00:00:00", "Accounts.totalAccounts": 1},
            {"Accounts.createdAt.week": "2026-02-23T00:00:00", "Accounts.totalAccounts": 1},
        ],
    ),
    (
        # fan-out: a count of accounts grouped by a column of the one_to_many side
        {
            "measures": ["Accounts.totalAccounts", "Accounts.proAccounts"],
            "dimensions": ["MilestoneCompletionLogs.milestoneName"],
        },
        [
            {_MILESTONE: "create_workspace", "Accounts.totalAccounts": 4, "Accounts.proAccounts": 3},
            {_MILESTONE: "invite_teammate", "Accounts.totalAccounts": 2, "Accounts.proAccounts": 2},
            {_MILESTONE: "share_file", "Accounts.totalAccounts": 1, "Accounts.proAccounts": 1},
            {_MILESTONE: None, "Accounts.totalAccounts": 1, "Accounts.proAccounts": 0},
        ],
    ),
    (
        {"measures": ["Accounts.totalAccounts", "MilestoneCompletionLogs.totalMilestonesCompleted"]},
        [{"Accounts.totalAccounts": 5, "MilestoneCompletionLogs.totalMilestonesCompleted": 7}],
    ),
    (
        {
            "measures": ["Accounts.totalAccounts"],
            "filters": [{"member": "Accounts.seats", "operator": "equals", "values": ["1"]}],
        },
        [{"Accounts.totalAccounts": 2}],
    ),
    (
        {
            "measures": ["Accounts.totalAccounts"],
            "filters": [{"member": "Accounts.isPro", "operator": "equals", "values": ["true"]}],
        },
        [{"Accounts.totalAccounts": 3}],
    ),
    (
        {
            "measures": ["Accounts.totalAccounts"],
            "timeDimensions": [
                {"dimension": "Accounts.createdAt", "granularity": "day", "dateRange": ["2026-01-31", "2026-02-02"]}
            ],
        },
        [
            {"Accounts.createdAt.day": "2026-01-31T00:00:00", "Accounts.totalAccounts": 1},
            {"Accounts.createdAt.day": "2026-02-02T00:00:00", "Accounts.totalAccounts": 1},
        ],
    ),
    (
        {"measures": ["Signups.count", "Signups.proShare"], "segments": ["Signups.pro"]},
        [{"Signups.count": 3, "Signups.proShare": 100.0}],
    ),
]


@pytest.fixture(scope="module", params=["yaml", "js"])
def seed_model(request, tmp_path_factory, cube_ready):
    fmt = request.param
    root = _write(tmp_path_factory.mktemp(f"model_{fmt}"), MODELS[fmt])
    queries = [q for q, _ in CASES]
    return fmt, root, cube_engine.render(root, queries, meta=True)


# ---------------------------------------------------------------------------- tests


def test_seed_model_compiles_and_gives_right_numbers(seed_model, con):
    fmt, _root, doc = seed_model
    assert doc["ok"] is True, doc.get("errors")
    assert len(doc["results"]) == len(CASES)
    for (query, expected), result in zip(CASES, doc["results"], strict=True):
        assert result["error"] is None, (fmt, query, result["error"])
        got = run_rows(con, result)
        assert _norm(got) == _norm(expected), (fmt, query, result["sql"])


def test_duckdb_sql_shapes(seed_model):
    _fmt, _root, doc = seed_model
    by_query = {json.dumps(q, sort_keys=True): r for (q, _), r in zip(CASES, doc["results"], strict=True)}

    def sql_of(i: int) -> dict:
        return by_query[json.dumps(CASES[i][0], sort_keys=True)]

    monthly = sql_of(1)
    assert "DATE_TRUNC('month', timezone('UTC', \"accounts\".created_at::timestamptz))" in monthly["sql"]
    assert 'count(CASE WHEN ("accounts".plan = \'pro\') THEN "accounts".id END)' in monthly["sql"]
    assert monthly["aliasNameToMember"]["accounts__created_at_month"] == "Accounts.createdAt.month"
    # the fan-out query counts distinct primary keys of Accounts over a keys sub-select
    fanout = sql_of(3)["sql"]
    assert "count(distinct" in fanout and "SELECT DISTINCT" in fanout
    # '?' placeholders with values in params
    number_filter = sql_of(5)
    assert "CAST(? AS DOUBLE)" in number_filter["sql"] and number_filter["params"] == ["1"]
    date_range = sql_of(7)
    assert "?::timestamptz" in date_range["sql"]
    assert date_range["params"] == ["2026-01-31T00:00:00.000Z", "2026-02-02T23:59:59.999Z"]


def test_postgres_placeholders(cube_ready, tmp_path):
    root = _write(tmp_path, MODELS["yaml"])
    query = {
        "measures": ["Accounts.totalAccounts"],
        "filters": [{"member": "Accounts.seats", "operator": "equals", "values": ["1"]}],
        "timeDimensions": [{"dimension": "Accounts.createdAt", "dateRange": ["2026-01-01", "2026-01-31"]}],
    }
    doc = cube_engine.render(root, [query], dialect="postgres")
    result = doc["results"][0]
    assert "$1" in result["sql"] and "$3" in result["sql"] and "?" not in result["sql"]
    assert len(result["params"]) == 3


def test_yaml_and_js_models_are_equivalent_after_compilation(cube_ready, tmp_path):
    docs = {}
    for fmt, files in MODELS.items():
        root = _write(tmp_path / fmt, files)
        docs[fmt] = cube_engine.render(root, [q for q, _ in CASES], meta=True)
        assert docs[fmt]["ok"], docs[fmt].get("errors")

    def strip(meta):
        return [{k: v for k, v in cube.items() if k != "fileName"} for cube in meta["cubes"]]

    assert strip(docs["yaml"]["meta"]) == strip(docs["js"]["meta"])
    assert [r["sql"] for r in docs["yaml"]["results"]] == [r["sql"] for r in docs["js"]["results"]]
    accounts = next(c for c in docs["yaml"]["meta"]["cubes"] if c["name"] == "Accounts")
    assert accounts["sql"] == "SELECT * FROM accounts"
    assert accounts["joins"] == [
        {
            "name": "MilestoneCompletionLogs",
            "relationship": "hasMany",
            "sql": '"accounts".id = "milestone_completion_logs".account_id',
        }
    ]
    measures = {m["name"]: m for m in accounts["measures"]}
    assert measures["percentPro"]["format"] == "percent"
    assert measures["proAccounts"]["sql"] == 'count(CASE WHEN ("accounts".plan = \'pro\') THEN "accounts".id END)'
    assert measures["percentQualified"]["title"] == "Percent of Accounts Completing Key Activation Milestones"
    signups = next(c for c in docs["yaml"]["meta"]["cubes"] if c["name"] == "Signups")
    assert signups["public"] is False
    assert [s["name"] for s in signups["segments"]] == ["pro"]


def test_pre_aggregation_selection(seed_model, con):
    fmt, root, _doc = seed_model
    served = {
        "measures": ["Signups.count", "Signups.proCount", "Signups.proShare"],
        "timeDimensions": [{"dimension": "Signups.createdAt", "granularity": "month"}],
    }
    not_served_dimension = {"measures": ["Signups.count"], "dimensions": ["Signups.plan"]}
    not_served_measure = {
        "measures": ["Signups.distinctPlans"],
        "timeDimensions": [{"dimension": "Signups.createdAt", "granularity": "month"}],
    }
    no_rollup_cube = {"measures": ["Accounts.totalAccounts"]}
    doc = cube_engine.render(root, [served, not_served_dimension, not_served_measure, no_rollup_cube])
    assert doc["ok"], doc.get("errors")
    hit, miss_dim, miss_measure, none = doc["results"]
    assert hit["preAggregation"] == "Signups.daily", fmt
    assert miss_dim["preAggregation"] is None
    assert miss_measure["preAggregation"] is None
    assert none["preAggregation"] is None

    # "sql" always reads the source tables, whatever the matcher picked ...
    assert "pre_aggregations" not in hit["sql"]
    raw = run_rows(con, hit)
    assert _norm(raw) == _norm(
        [
            {
                "Signups.createdAt.month": "2026-01-01T00:00:00",
                "Signups.count": 3,
                "Signups.proCount": 2,
                "Signups.proShare": 200 / 3,
            },
            {
                "Signups.createdAt.month": "2026-02-01T00:00:00",
                "Signups.count": 2,
                "Signups.proCount": 1,
                "Signups.proShare": 50.0,
            },
        ]
    )
    # ... and the rollup Cube would build, read back through Cube's rollup SQL, agrees.
    for table in hit["preAggregationTables"]:
        schema = table["tableName"].split(".")[0]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(table["sql"], table["params"])
    via_rollup = run_rows(con, {**hit, "sql": hit["rollupSql"], "params": hit["rollupParams"]})
    assert _norm(via_rollup) == _norm(raw)


def test_unknown_member_in_query_is_a_per_query_error(cube_ready, tmp_path):
    root = _write(tmp_path, MODELS["yaml"])
    doc = cube_engine.render(root, [{"measures": ["Accounts.nope"]}, {"measures": ["Accounts.totalAccounts"]}])
    assert doc["ok"] is True
    bad, good = doc["results"]
    assert bad["sql"] is None and "nope" in bad["error"]
    assert good["error"] is None and good["sql"]


@pytest.mark.parametrize("fmt", ["yaml", "js"])
def test_reference_to_unknown_member_is_a_compile_error(cube_ready, tmp_path, fmt):
    files = dict(MODELS[fmt])
    name = f"cubes/accounts.{'yml' if fmt == 'yaml' else 'js'}"
    old = "{totalAccounts}" if fmt == "yaml" else "${totalAccounts}"
    assert old in files[name]
    files[name] = files[name].replace(old, old.replace("totalAccounts", "noSuchMeasure"), 1)
    doc = cube_engine.render(_write(tmp_path, files), [{"measures": ["Accounts.totalAccounts"]}])
    assert doc["ok"] is False
    assert any(e["file"] == name and e["cube"] == "Accounts" and "noSuchMeasure" in e["message"] for e in doc["errors"]), (
        doc["errors"]
    )


def test_invalid_member_type_and_yaml_syntax_errors_name_the_file(cube_ready, tmp_path):
    files = dict(MODELS["yaml"])
    files["cubes/milestone_completion_logs.yml"] = SEED_YAML_LOGS.replace("type: count\n", "type: countt\n")
    doc = cube_engine.render(_write(tmp_path / "a", files), [])
    assert doc["ok"] is False
    err = doc["errors"][0]
    assert err["file"] == "cubes/milestone_completion_logs.yml"
    assert err["cube"] == "MilestoneCompletionLogs"
    assert "countt" in err["message"]

    files = dict(MODELS["yaml"])
    files["cubes/broken.yml"] = "cubes:\n  - name: Broken\n   sql: x\n"
    doc = cube_engine.render(_write(tmp_path / "b", files), [])
    assert doc["ok"] is False
    assert doc["errors"][0]["file"] == "cubes/broken.yml"


def test_jinja_markers_anywhere_in_a_yaml_file_break_it(cube_ready, tmp_path):
    files = dict(MODELS["yaml"])
    files["cubes/signups.yml"] = "# progress 50%} done\n" + SIGNUPS_YAML
    doc = cube_engine.render(_write(tmp_path, files), [])
    assert doc["ok"] is False
    assert doc["errors"][0]["file"] == "cubes/signups.yml"
    assert "Jinja" in doc["errors"][0]["message"]


# Arbitrary text that must land verbatim inside a SQL string literal.
HOSTILE = [
    "it's",
    "a\\b",
    "a\\\\b",
    '"q"',
    "$x",
    "${x}",
    "${CUBE}",
    "`tick`",
    "?",
    "%",
    "50%}",
    "{%",
    "{% raw %}",
    "{{x}}",
    "}}",
    "{x}",
    "{CUBE}",
    "\\{x\\}",
    "line1\nline2",
    "tab\there",
    "éü☃😀",
    "\\n",
    "\\x41",
    "\\u0041",
    "\\",
    "x\\",
    "'; DROP TABLE t; --",
    '\\"',
    "#",
    "\u2028",
    # Cube's ParamAllocator turns any `$<digits>$` in the SQL text (inside string
    # literals too) into a query parameter placeholder.
    "$0$",
    "$1$x$12$",
    "$$$COLUMN$$$",
    "$$",
    "US$5",
]


def _sql_literal(text: str) -> str:
    """A SQL string literal for text, safe from Cube's `$<n>$` parameter markers.

    `'` doubles; the literal is cut between every `$` and a following digit and
    the pieces joined with `||`, so the SQL text never holds `$<digits>$`.
    """
    parts = re.split(r"(?<=\$)(?=\d)", text)
    literals = ["'" + part.replace("'", "''") + "'" for part in parts]
    return literals[0] if len(literals) == 1 else "(" + " || ".join(literals) + ")"


def _cube_yaml_text(text: str) -> str:
    """Text as Cube's YAML compiler must see it to keep it literal (after YAML parsing).

    Cube runs every YAML string through a Python f-string: a backslash starts an
    escape (and a trailing escaped backslash breaks), `{`/`}` start a member
    reference. `\\x5c` is a backslash, `\\{` `\\}` are literal braces.
    """
    return text.replace("\\", "\\x5c").replace("{", "\\{").replace("}", "\\}")


def _yaml_double_quoted(text: str) -> str:
    """A YAML double-quoted scalar whose raw text never holds `{`, `}` (no Jinja markers)."""
    return json.dumps(text, ensure_ascii=False).replace("{", "\\x7B").replace("}", "\\x7D")


def _js_template(text: str) -> str:
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def test_hostile_literals_land_verbatim(cube_ready, tmp_path, con):
    yaml_measures, yaml_dims, js_measures, js_dims = [], [], [], []
    for i, value in enumerate(HOSTILE):
        lit = _sql_literal(value)
        yaml_measures.append(
            f"      - name: m{i}\n        type: count\n        title: {_yaml_double_quoted(_cube_yaml_text(value))}\n"
            f"        filters:\n          - sql: {_yaml_double_quoted('{CUBE}.milestone_name = ' + _cube_yaml_text(lit))}\n"
        )
        case_sql = f"CASE WHEN {{CUBE}}.milestone_name = {_cube_yaml_text(lit)} THEN {_cube_yaml_text(lit)} END"
        yaml_dims.append(f"      - name: d{i}\n        type: string\n        sql: {_yaml_double_quoted(case_sql)}\n")
        js_measures.append(
            f"    m{i}: {{ type: 'count', title: {json.dumps(value)}, "
            f"filters: [{{ sql: `${{CUBE}}.milestone_name = {_js_template(lit)}` }}] }},\n"
        )
        js_dims.append(
            f"    d{i}: {{ type: 'string', sql: `CASE WHEN ${{CUBE}}.milestone_name = {_js_template(lit)} "
            f"THEN {_js_template(lit)} END` }},\n"
        )
    key = "      - name: id\n        sql: id\n        type: string\n        primary_key: true\n"
    models = {
        "yaml": {
            "cubes/h.yml": "cubes:\n  - name: H\n    sql_table: h\n    measures:\n"
            + "".join(yaml_measures)
            + "    dimensions:\n"
            + key
            + "".join(yaml_dims)
        },
        "js": {
            "cubes/h.js": "cube('H', {\n  sqlTable: `h`,\n  measures: {\n"
            + "".join(js_measures)
            + "  },\n  dimensions: {\n    id: { sql: `id`, type: 'string', primaryKey: true },\n"
            + "".join(js_dims)
            + "  },\n});\n"
        },
    }
    con.execute("CREATE TABLE h (id VARCHAR, milestone_name VARCHAR)")
    con.executemany("INSERT INTO h VALUES (?, ?)", [(f"h{i}", v) for i, v in enumerate(HOSTILE)])
    queries = [{"measures": [f"H.m{i}" for i in range(len(HOSTILE))]}] + [
        {"dimensions": [f"H.d{i}"], "filters": [{"member": "H.id", "operator": "equals", "values": [f"h{i}"]}]}
        for i in range(len(HOSTILE))
    ]
    for fmt, files in models.items():
        doc = cube_engine.render(_write(tmp_path / fmt, files), queries, meta=True)
        assert doc["ok"], (fmt, doc.get("errors"))
        counts = run_rows(con, doc["results"][0])[0]
        titles = {m["name"]: m.get("title") for m in doc["meta"]["cubes"][0]["measures"]}
        for i, value in enumerate(HOSTILE):
            assert counts[f"H.m{i}"] == 1, (fmt, value)
            assert run_rows(con, doc["results"][1 + i]) == [{f"H.d{i}": value}], (fmt, value)
            assert titles[f"m{i}"] == value, (fmt, value)


def test_render_js_in_node_dir_is_kept_in_sync(cube_ready, tmp_path):
    installed = cube_ready / "render.js"
    installed.write_text(installed.read_text() + "\n// stale\n")
    doc = cube_engine.render(_write(tmp_path, MODELS["yaml"]), [])
    assert doc["ok"]
    assert installed.read_bytes() == (cube_engine.package_dir() / "render.js").read_bytes()


# ------------------------------------------------------- driver without an engine


def test_node_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTIVATION_SEMANTIC_CUBE_DIR", str(tmp_path / "engine"))
    assert cube_engine.node_dir() == tmp_path / "engine"
    monkeypatch.delenv("ACTIVATION_SEMANTIC_CUBE_DIR")
    assert cube_engine.node_dir() == Path.home() / ".cache" / "activation-semantic" / "cube-node-1.7.43"


def test_missing_packages_raise_unavailable(monkeypatch, tmp_path):
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    monkeypatch.setenv("ACTIVATION_SEMANTIC_CUBE_DIR", str(tmp_path / "empty"))
    with pytest.raises(CubeEngineUnavailable) as info:
        cube_engine.render(tmp_path, [])
    assert str(info.value) == "Cube engine not installed: run 'activation-semantic cube-setup' (needs node and npm)"


def test_missing_node_raises_unavailable(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CubeEngineUnavailable, match="node not found"):
        cube_engine.render(tmp_path, [])
    with pytest.raises(CubeEngineUnavailable, match="node not found"):
        cube_engine.setup(io.StringIO())


def test_non_json_output_raises_failed(monkeypatch, tmp_path):
    """A node that prints garbage is reported with its stderr."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    node = fake_bin / "node"
    node.write_text("#!/bin/sh\necho 'not json'\necho 'boom on stderr' >&2\nexit 3\n")
    node.chmod(0o755)
    engine = tmp_path / "engine"
    engine.mkdir()
    monkeypatch.setattr(cube_engine, "is_installed", lambda target=None: True)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("ACTIVATION_SEMANTIC_CUBE_DIR", str(engine))
    with pytest.raises(CubeEngineFailed, match="boom on stderr"):
        cube_engine.render(tmp_path, [])


def test_unknown_dialect_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown dialect"):
        cube_engine.render(tmp_path, [], dialect="oracle")
