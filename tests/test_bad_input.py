"""Bad input, end to end through the CLI: the exact exit code and one clear line, no traceback, nothing written.

Every bad definition file runs through `validate`, `generate --out` (into a missing folder and into a
folder holding a generated model) and `verify`; every bad fixture through `verify`. Exit 1 means the
file was read but its content is wrong; exit 2 means it could not be read as a definition or fixture at
all (missing, too large, not UTF-8, not YAML, not a mapping, refused YAML features). Each run must end
within two seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from activation_semantic.cli import app

GOOD = """version: 1
name: team
accounts:
  sql_table: accounts
milestone_logs:
  sql_table: milestone_completion_logs
milestone_sets:
  - name: core
    milestones: [a, b, c]
"""
SETS = GOOD.split("milestone_sets:\n")[0] + "milestone_sets:\n"
BILLION_LAUGHS = b"""lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
lol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
lol3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
lol4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
lol5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
lol6: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
lol7: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
lol8: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
lol9: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
MIB2 = GOOD.encode() + b"# " + b"x" * (2 * 1024 * 1024) + b"\n"
ID_HELP = "use lowercase letters, digits and _, starting with a letter (e.g. core_activation)"
MEMBER_HELP = "use letters, digits and _, starting with a letter (e.g. plan or userType)"


def with_set(body: str) -> bytes:
    return (SETS + body).encode()


def swap(old: str, new: str) -> bytes:
    assert old in GOOD
    return GOOD.replace(old, new, 1).encode()


A = "activation.yml"

# (id, file bytes, exit code, the one line of output; {f} is the file name)
DEFINITIONS: list[tuple[str, bytes, int, str]] = [
    # -- unreadable: exit 2 ------------------------------------------------------------------------------
    ("empty", b"", 2, "error: {f}: the file is empty; a definition is a YAML mapping"),
    ("only_comments", b"# nothing here\n\n", 2, "error: {f}: the file is empty; a definition is a YAML mapping"),
    ("list_at_top", b"- version: 1\n- name: team\n", 2,
     "error: {f}:1:1: the top level is a list; a definition is a mapping (version:, name:, ...)"),
    ("scalar_at_top", b"activation\n", 2,
     "error: {f}:1:1: the top level is a str; a definition is a mapping (version:, name:, ...)"),
    ("malformed_yaml", b"version: [1\nname: team\n", 2,
     "error: {f}:2:5: invalid YAML: did not find expected ',' or ']'"),
    ("unclosed_quote", b'version: 1\nname: "team\n', 2,
     "error: {f}:3:1: invalid YAML: found unexpected end of stream"),
    ("tab_indent", b"version: 1\naccounts:\n\tsql_table: accounts\n", 2,
     "error: {f}:3:1: invalid YAML: found character that cannot start any token (indent with spaces, not tabs)"),
    ("duplicate_key", swap("name: team\n", "name: team\nname: other\n"), 2,
     "error: {f}:3:1: duplicate key 'name'; keep only one"),
    ("two_documents", GOOD.encode() + b"---\n" + GOOD.encode(), 2,
     "error: {f}:10:1: invalid YAML: but found another document"),
    ("billion_laughs", BILLION_LAUGHS, 2, "error: {f}:1:6: YAML anchors (&name) are not allowed; write the value out"),
    ("alias", swap("name: team\n", "name: *team\n"), 2,
     "error: {f}:2:7: YAML aliases (*name) are not allowed; write the value out"),
    ("merge_key", swap("accounts:\n", "accounts:\n  <<: {cube: X}\n"), 2,
     "error: {f}:4:3: YAML merge keys (<<) are not allowed; write the keys out"),
    ("python_tag", swap("version: 1", "version: !!python/object/apply:os.system [ls]"), 2,
     "error: {f}:1:10: YAML tag '!!python/object/apply:os.system' is not allowed; write a plain value"),
    ("custom_tag", swap("name: team", "name: !env TEAM"), 2,
     "error: {f}:2:7: YAML tag '!env' is not allowed; write a plain value"),
    ("deep_nesting", b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", 2,
     "error: {f}:1:35: nested more than 32 levels deep; flatten the structure"),
    ("huge_number", swap("version: 1", "version: 1" + "0" * 5000), 2,
     "error: {f}:1:10: cannot read '1000000000000000000000000000000000000000' as a YAML value (a number with too many "
     "digits); put it in quotes to make it text"),
    ("impossible_date", swap("name: team", "name: 2026-02-30"), 2,
     "error: {f}:2:7: cannot read '2026-02-30' as a YAML value (day is out of range for month); put it in quotes to make "
     "it text"),
    ("number_key", swap("name: team\n", "name: team\n1: x\n"), 2,
     "error: {f}:3:1: the key '1' is not text to YAML (it reads as a number); put it in quotes"),
    ("null_key", swap("name: team\n", "name: team\n~: x\n"), 2,
     "error: {f}:3:1: the key '~' is not text to YAML (it reads as null); put it in quotes"),
    ("complex_key", swap("name: team\n", "name: team\n? [a, b]\n: x\n"), 2,
     "error: {f}:3:3: mapping keys must be plain scalars"),
    ("two_mib", MIB2, 2,
     f"error: {{f}}: {len(MIB2)} bytes is over the 1048576 byte limit (1 MiB) for a definition file"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 2,
     "error: {f}: binary content (NUL bytes); a definition file is UTF-8 YAML text"),
    ("latin1", swap("name: team", "name: team\ndescription: caf\xe9 cr\xe8me").decode().encode("latin-1"), 2,
     "error: {f}:3: not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
    ("utf16", GOOD.encode("utf-16"), 2,
     "error: {f}: binary content (NUL bytes, and a UTF-16 byte-order mark); save the definition file as UTF-8"),
    # -- invalid content: exit 1 -------------------------------------------------------------------------
    ("unknown_key_typo", with_set("  - name: core\n    milestones: [a]\n    requier: all\n"), 1,
     "{f}:10:5: milestone_sets[0].requier: unknown key 'requier' (did you mean 'require'?)"),
    ("unknown_top_key", swap("name: team\n", "name: team\ndescripton: Team activation\n"), 1,
     "{f}:3:1: descripton: unknown key 'descripton' (did you mean 'description'?)"),
    ("unknown_key_no_match", swap("name: team\n", "name: team\nowner: data-team\n"), 1,
     "{f}:3:1: owner: unknown key 'owner' (allowed keys: accounts, description, dialect, milestone_logs, milestone_sets, "
     "name, naming, percent_scale, pre_aggregations, version)"),
    ("missing_sets", SETS.replace("milestone_sets:\n", "").encode(), 1, "{f}:1:1: milestone_sets: required key is missing"),
    ("empty_sets", (SETS.replace("milestone_sets:\n", "milestone_sets: []\n")).encode(), 1,
     "{f}:7:17: milestone_sets: must have at least one entry"),
    ("version_text", swap("version: 1", "version: one"), 1, "{f}:1:10: version: must be a whole number, got 'one'"),
    ("version_zero", swap("version: 1", "version: 0"), 1, "{f}:1:10: version: must be 1 or more, got 0"),
    ("name_is_date", swap("name: team", "name: 2026-01-01"), 1,
     "{f}:2:7: name: must be text, got 2026-01-01 (a date to YAML); put it in quotes to make it text"),
    ("milestones_not_list", with_set("  - name: core\n    milestones: a\n"), 1,
     "{f}:9:17: milestone_sets[0].milestones: must be a list, got 'a'"),
    ("milestone_number", with_set("  - name: core\n    milestones: [a, 7]\n"), 1,
     "{f}:9:21: milestone_sets[0].milestones[1]: must be a milestone value (text) or a mapping with value/key/title, got 7"),
    ("window_zero", with_set("  - name: core\n    milestones: [a]\n    within_days: 0\n"), 1,
     "{f}:10:18: milestone_sets[0].within_days: must be 1 or more, got 0"),
    ("window_negative", with_set("  - name: core\n    milestones: [a]\n    within_days: -7\n"), 1,
     "{f}:10:18: milestone_sets[0].within_days: must be 1 or more, got -7"),
    ("window_fraction", with_set("  - name: core\n    milestones: [a]\n    within_days: 1.5\n"), 1,
     "{f}:10:18: milestone_sets[0].within_days: must be a whole number, got 1.5"),
    ("window_text", with_set("  - name: core\n    milestones: [a]\n    within_days: two weeks\n"), 1,
     "{f}:10:18: milestone_sets[0].within_days: must be a whole number, got 'two weeks'"),
    ("require_too_many", with_set("  - name: core\n    milestones: [a, b, c]\n    require: 4\n"), 1,
     "{f}:10:14: milestone_sets[0].require: 4 is more than the 3 milestones in set 'core'"),
    ("require_zero", with_set("  - name: core\n    milestones: [a]\n    require: 0\n"), 1,
     "{f}:10:14: milestone_sets[0].require: 0 is not allowed; use a whole number of milestones, 1 or more"),
    ("require_negative", with_set("  - name: core\n    milestones: [a]\n    require: -1\n"), 1,
     "{f}:10:14: milestone_sets[0].require: -1 is not allowed; use a whole number of milestones, 1 or more"),
    ("require_word", with_set("  - name: core\n    milestones: [a]\n    require: most\n"), 1,
     "{f}:10:14: milestone_sets[0].require: must be all, any, or a whole number of milestones (1 or more)"),
    ("duplicate_set", with_set("  - name: core\n    milestones: [a]\n  - name: core\n    milestones: [b]\n"), 1,
     "{f}:10:11: milestone_sets[1].name: set name 'core' is already used by milestone_sets[0]; set names must be unique"),
    ("duplicate_milestone", with_set("  - name: core\n    milestones: [a, a]\n"), 1,
     "{f}:9:21: milestone_sets[0].milestones[1]: milestone 'a' is listed twice in set 'core' (also milestones[0]); "
     "list it once"),
    ("derived_keys_collide", with_set("  - name: core\n    milestones: [Share file, share-file]\n"), 1,
     "{f}:9:30: milestone_sets[0].milestones[1]: key 'share_file' (derived from 'share-file') is also the key of "
     "milestones[0] in set 'core'; give one of them a distinct key"),
    ("case_twins_collide", with_set("  - name: core\n    milestones: [Invite, invite]\n"), 1,
     "{f}:9:26: milestone_sets[0].milestones[1]: key 'invite' (derived from 'invite') is also the key of milestones[0] "
     "in set 'core'; give one of them a distinct key"),
    ("explicit_keys_collide", with_set("  - name: core\n    milestones: [{value: a, key: k}, {value: b, key: k}]\n"), 1,
     "{f}:9:54: milestone_sets[0].milestones[1].key: key 'k' is also the key of milestones[0] in set 'core'; give one of "
     "them a distinct key"),
    ("member_collision", with_set("  - name: core\n    milestones: [qualified]\n"), 1,
     "{f}:9:18: milestone_sets[0].milestones[0]: member name 'coreQualifiedAccounts' collides with "
     "'coreQualifiedAccounts' (from milestone_sets[0].name) in cube 'Accounts'; rename the set, the key or the dimension"),
    ("same_cube_twice", swap("  sql_table: milestone_completion_logs\n",
                             "  sql_table: milestone_completion_logs\n  cube: Accounts\n"), 1,
     "{f}:7:9: milestone_logs.cube: cube name 'Accounts' is also the accounts cube; give the two cubes different names"),
    ("both_sources", swap("  sql_table: accounts\n", "  sql_table: accounts\n  sql: SELECT * FROM accounts\n"), 1,
     "{f}:4:3: accounts: set exactly one of sql_table (a table name) or sql (a SELECT)"),
    ("bad_dialect", swap("name: team\n", "name: team\ndialect: oracle\n"), 1,
     "{f}:3:10: dialect: must be one of duckdb, postgres, snowflake, bigquery; got 'oracle'"),
    ("bad_percent_scale", swap("name: team\n", "name: team\npercent_scale: 10\n"), 1,
     "{f}:3:16: percent_scale: must be one of 100, 1; got 10"),
    # identifiers stay identifiers: the message says which characters are allowed
    ("set_name_spaces", with_set("  - name: core set\n    milestones: [a]\n"), 1,
     f"{{f}}:8:11: milestone_sets[0].name: 'core set' is not allowed: {ID_HELP}"),
    ("definition_name_upper", swap("name: team", "name: Team"), 1, f"{{f}}:2:7: name: 'Team' is not allowed: {ID_HELP}"),
    ("key_with_brace", with_set("  - name: core\n    milestones: [{value: a, key: '{CUBE}'}]\n"), 1,
     f"{{f}}:9:34: milestone_sets[0].milestones[0].key: '{{CUBE}}' is not allowed: {ID_HELP}"),
    ("cube_name_dash", swap("  sql_table: accounts\n", "  sql_table: accounts\n  cube: my-accounts\n"), 1,
     "{f}:5:9: accounts.cube: 'my-accounts' is not allowed: use letters, digits and _, starting with a letter "
     "(e.g. Accounts)"),
    ("dimension_name_sql",
     swap("  sql_table: accounts\n", "  sql_table: accounts\n  dimensions: [{name: 'a; b', sql: plan}]\n"), 1,
     f"{{f}}:5:23: accounts.dimensions[0].name: 'a; b' is not allowed: {MEMBER_HELP}"),
    ("column_injection", swap("  sql_table: accounts\n", "  sql_table: accounts\n  primary_key: id; DROP TABLE x\n"), 1,
     "{f}:5:16: accounts.primary_key: 'id; DROP TABLE x' is not allowed: use a plain column name: letters, digits and _, "
     "not starting with a digit"),
    ("table_injection", swap("sql_table: accounts", "sql_table: accounts --"), 1,
     "{f}:4:14: accounts.sql_table: 'accounts --' is not allowed: use a table name such as accounts or "
     "analytics.accounts (letters, digits, _, $)"),
    # free text that no warehouse or Cube can take
    ("nul_in_value", with_set('  - name: core\n    milestones: ["a\\0"]\n'), 1,
     "{f}:9:18: milestone_sets[0].milestones[0].value: contains a NUL character, which no warehouse stores in text"),
    ("value_too_long", with_set("  - name: core\n    milestones: [" + "v" * 5000 + "]\n"), 1,
     "{f}:9:18: milestone_sets[0].milestones[0].value: is too long (at most 4096 characters)"),
    ("empty_value", with_set("  - name: core\n    milestones: ['']\n"), 1,
     "{f}:9:18: milestone_sets[0].milestones[0].value: must not be empty"),
    # user SQL that would break once nested in the generated SQL
    ("sql_trailing_semicolon", swap("  sql_table: accounts\n", "  sql: SELECT * FROM accounts;\n"), 1,
     "{f}:4:8: accounts.sql: ends with ';'; remove it: this SQL is nested inside the query Cube generates"),
    ("sql_two_statements", swap("  sql_table: accounts\n", "  sql: DELETE FROM accounts; SELECT * FROM accounts\n"), 1,
     "{f}:4:8: accounts.sql: contains ';' outside a string; give a single query or expression without ';': this SQL is "
     "nested inside the query Cube generates"),
    ("sql_trailing_comment", swap("  sql_table: milestone_completion_logs\n",
                                  "  sql: SELECT * FROM milestone_completion_logs -- all\n"), 1,
     "{f}:6:8: milestone_logs.sql: ends with a -- comment, which would swallow the SQL generated after it; "
     "use /* ... */ instead"),
    ("dimension_comment", swap("  sql_table: accounts\n",
                               "  sql_table: accounts\n  dimensions: [{name: plan, sql: 'upper(plan) -- shout'}]\n"), 1,
     "{f}:5:34: accounts.dimensions[0].sql: ends with a -- comment, which would swallow the SQL generated after it; "
     "use /* ... */ instead"),
    ("dimension_unclosed_quote", swap("  sql_table: accounts\n",
                                      "  sql_table: accounts\n  dimensions: [{name: plan, sql: \"plan || 'x\"}]\n"), 1,
     "{f}:5:34: accounts.dimensions[0].sql: has an unclosed ' quote, which would swallow the SQL generated after it; "
     "close it"),
    ("sql_param_marker", swap("  sql_table: accounts\n", "  sql: \"SELECT * FROM accounts WHERE plan <> 'US$1$'\"\n"), 1,
     "{f}:4:8: accounts.sql: contains '$1$', which Cube reads as a query parameter marker (even inside a string "
     "literal); write it another way, e.g. '$' || '1$'"),
]
LIBYAML_WORDING = {"malformed_yaml", "unclosed_quote", "tab_indent", "two_documents"}  # the parser's own words


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(runner: CliRunner, args: list[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    result = runner.invoke(app, args)
    elapsed = time.perf_counter() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {result.exception!r}")
    return result.exit_code, result.output, elapsed


def _check_line(output: str, expected: str, loose: bool) -> None:
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    if loose and not yaml.__with_libyaml__:  # pure-Python PyYAML words syntax errors its own way
        assert len(lines) == 1 and lines[0].startswith(expected.split("invalid YAML:")[0]), lines
        return
    assert lines == [expected]


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("good.yml").write_text(GOOD)
    Path("fixture.yml").write_text(FIXTURE)
    assert CliRunner().invoke(app, ["generate", "good.yml", "--out", "model"]).exit_code == 0
    return tmp_path


@pytest.mark.parametrize(("content", "code", "expected"), [c[1:] for c in DEFINITIONS], ids=[c[0] for c in DEFINITIONS])
def test_bad_definition(workdir: Path, runner: CliRunner, request: pytest.FixtureRequest, content: bytes, code: int,
                        expected: str) -> None:
    Path(A).write_bytes(content)
    loose = request.node.callspec.id in LIBYAML_WORDING
    line = expected.replace("{f}", A)
    before = _snapshot(Path("model"))
    for args in (["validate", A], ["generate", A, "--out", "new_model"], ["generate", A, "--out", "model"],
                 ["generate", A, "--out", "model", "--format", "js", "--force"], ["verify", A, "fixture.yml"]):
        exit_code, output, elapsed = _run(runner, args)
        assert exit_code == code, (args, output)
        _check_line(output, line, loose)
        assert elapsed < 2.0, (args, elapsed)
    assert not Path("new_model").exists()
    assert _snapshot(Path("model")) == before


def test_missing_and_folder_definitions(workdir: Path, runner: CliRunner) -> None:
    for args, line in [
        (["validate", "nope.yml"], "error: nope.yml: no such file; check the path"),
        (["generate", "nope.yml", "--out", "new_model"], "error: nope.yml: no such file; check the path"),
        (["verify", "nope.yml", "fixture.yml"], "error: nope.yml: no such file; check the path"),
        (["validate", "model"], "error: model: is a folder, not a definition file"),
    ]:
        exit_code, output, elapsed = _run(runner, args)
        assert (exit_code, output.strip().splitlines()) == (2, [line])
        assert elapsed < 2.0
    assert not Path("new_model").exists()


def test_every_bad_file_reported_in_one_validate_run(workdir: Path, runner: CliRunner) -> None:
    names = []
    for name, content, _, _ in DEFINITIONS[:6] + DEFINITIONS[-3:]:
        Path(f"{name}.yml").write_bytes(content)
        names.append(f"{name}.yml")
    exit_code, output, _ = _run(runner, ["validate", *names])
    assert exit_code == 2  # the worst of the files
    assert len(output.strip().splitlines()) == len(names)


# -- fixtures ------------------------------------------------------------------------------------------

ACCOUNTS = "  accounts:\n    - {id: a1, created_at: 2026-01-05 09:00:00}\n"
LOGS = ("  milestone_completion_logs:\n"
        "    - {id: l1, account_id: a1, milestone_name: a, completion_date: 2026-01-06 09:00:00}\n")
QUERY = "queries:\n  - query: {measures: [Accounts.totalAccounts]}\n    expect: [{Accounts.totalAccounts: 1}]\n"
FIXTURE = "tables:\n" + ACCOUNTS + LOGS + QUERY
CSV_HEAD = "id,account_id,milestone_name,completion_date\n"


def _logs_file(name: str) -> str:
    return "tables:\n" + ACCOUNTS + f"  milestone_completion_logs: {name}\n" + QUERY


def _query(query: str, expect: str = "[]") -> str:
    return "tables:\n" + ACCOUNTS + LOGS + f"queries:\n  - query: {query}\n    expect: {expect}\n"


F = "bad_fixture.yml"
# (id, fixture text, {extra file: bytes}, exit code, the one line of output)
FIXTURES: list[tuple[str, str, dict[str, bytes], int, str]] = [
    ("empty", "", {}, 2, "error: {f}: the file is empty; a fixture is a YAML mapping"),
    ("malformed", "tables: [\n", {}, 2, "error: {f}:2:1: invalid YAML: did not find expected node content"),
    ("list_at_top", "- tables\n", {}, 2,
     "error: {f}:1: a fixture is a mapping with 'tables' and 'queries' (see README, Verifying numbers)"),
    ("unknown_key", "tabels:\n" + ACCOUNTS + LOGS + QUERY, {}, 2,
     "error: {f}:1: unknown key 'tabels' (did you mean 'tables'?)"),
    ("no_tables", QUERY, {}, 2, "error: {f}:1: 'tables' is missing; map each table name to rows or to a .csv/.parquet path"),
    ("no_queries", "tables:\n" + ACCOUNTS + LOGS, {}, 2,
     "error: {f}:1: 'queries' is missing; give a list of {query:, expect:} entries"),
    ("missing_table", "tables:\n" + ACCOUNTS + QUERY, {}, 2,
     "error: {f}:2: table 'milestone_completion_logs' (milestone_logs.sql_table in the definition) is missing from "
     "'tables'; add it as rows or a .csv/.parquet path (the fixture has accounts)"),
    ("missing_column", "tables:\n" + ACCOUNTS + "  milestone_completion_logs:\n    - {id: l1, account_id: a1, "
     "milestone: a, completion_date: 2026-01-06 09:00:00}\n" + QUERY, {}, 2,
     "error: {f}:5: table 'milestone_completion_logs' has no column 'milestone_name', which the definition reads "
     "(milestone_logs.milestone); add it (the table has id, account_id, milestone, completion_date)"),
    ("row_not_mapping", "tables:\n" + ACCOUNTS + "  milestone_completion_logs:\n    - l1\n" + QUERY, {}, 2,
     "error: {f}:5: table 'milestone_completion_logs' row 1 is not a mapping of column: value; write it as "
     "{column: value, ...}"),
    ("bad_inline_time", "tables:\n" + ACCOUNTS + "  milestone_completion_logs:\n    - {id: l1, account_id: a1, "
     "milestone_name: a, completion_date: last tuesday}\n" + QUERY, {}, 2,
     "error: {f}:5: table 'milestone_completion_logs' row 1, column 'completion_date': 'last tuesday' is not a "
     "timestamp; write it as 2026-01-31 09:30:00 (or a YAML timestamp)"),
    ("csv_missing", _logs_file("logs.csv"), {}, 2,
     "error: {f}:4: table 'milestone_completion_logs': file logs.csv not found (paths are relative to the fixture)"),
    ("csv_bad_time", _logs_file("logs.csv"),
     {"logs.csv": (CSV_HEAD + "l1,a1,a,2026-01-06 09:00:00\nl2,a1,b,soon\n").encode()}, 2,
     "error: {f}:4: table 'milestone_completion_logs' could not be loaded: logs.csv: line 3: Error when converting "
     "column \"completion_date\". Could not convert string \"soon\" to 'TIMESTAMP'; fix the data or the file"),
    ("csv_not_utf8", _logs_file("logs.csv"), {"logs.csv": (CSV_HEAD + "l1,a1,caf\xe9,2026-01-06\n").encode("latin-1")}, 2,
     "error: {f}:4: table 'milestone_completion_logs' could not be loaded: logs.csv: line 2: Invalid unicode (byte "
     "sequence mismatch) detected. This file is not utf-8 encoded; fix the data or the file"),
    ("csv_missing_column", _logs_file("logs.csv"), {"logs.csv": b"id,account_id,completion_date\nl1,a1,2026-01-06\n"}, 2,
     "error: {f}:4: table 'milestone_completion_logs' has no column 'milestone_name', which the definition reads "
     "(milestone_logs.milestone); add it (the table has id, account_id, completion_date)"),
    ("csv_empty", _logs_file("logs.csv"), {"logs.csv": b""}, 2,
     "error: {f}:4: table 'milestone_completion_logs' has no column 'account_id', which the definition reads "
     "(milestone_logs.account_id); add it (the table has column0)"),
    ("parquet_corrupt", _logs_file("logs.parquet"), {"logs.parquet": b"PAR1 not really"}, 2,
     "error: {f}:4: table 'milestone_completion_logs' could not be loaded: logs.parquet: No magic bytes found at end of "
     "file 'logs.parquet'; fix the data or the file"),
    ("unknown_format", _logs_file("logs.xlsx"), {"logs.xlsx": b"PK"}, 2,
     "error: {f}:4: table 'milestone_completion_logs': logs.xlsx is neither .csv nor .parquet"),
    ("unknown_member", _query("{measures: [Accounts.totalAcounts]}"), {}, 2,
     "error: {f}:7: queries[0]: unknown measure 'Accounts.totalAcounts'"),
    ("unknown_cube", _query("{measures: [Acounts.totalAccounts]}"), {}, 2,
     "error: {f}:7: queries[0]: unknown cube 'Acounts' in 'Acounts.totalAccounts' (the model has Accounts, "
     "MilestoneCompletionLogs)"),
    ("member_without_cube", _query("{measures: [totalAccounts]}"), {}, 2,
     "error: {f}:7: queries[0]: 'totalAccounts' is not a member name (write Cube.member, e.g. Accounts.percentQualified)"),
    ("expect_not_selected", _query("{measures: [Accounts.totalAccounts]}", "[{Accounts.qualifiedAccounts: 1}]"), {}, 2,
     "error: {f}:7: queries[0]: expected column 'Accounts.qualifiedAccounts' is not selected by the query (it selects "
     "Accounts.totalAccounts)"),
    ("query_without_expect", "tables:\n" + ACCOUNTS + LOGS + "queries:\n  - query: {measures: [Accounts.totalAccounts]}\n",
     {}, 2, "error: {f}:7: queries[0] needs 'expect': - {query: {measures: [...]}, expect: [{...}]}"),
    ("query_unknown_key", _query("{measures: [Accounts.totalAccounts]}") + "    expected: []\n", {}, 2,
     "error: {f}:9: queries[0]: unknown key 'expected' (did you mean 'expect'?)"),
]


@pytest.mark.parametrize(("text", "files", "code", "expected"), [c[1:] for c in FIXTURES], ids=[c[0] for c in FIXTURES])
def test_bad_fixture(workdir: Path, runner: CliRunner, text: str, files: dict[str, bytes], code: int,
                     expected: str) -> None:
    Path(F).write_text(text)
    for name, data in files.items():
        Path(name).write_bytes(data)
    exit_code, output, elapsed = _run(runner, ["verify", "good.yml", F])
    assert exit_code == code, output
    _check_line(output, expected.replace("{f}", F), loose=text.startswith("tables: ["))
    assert elapsed < 2.0


def test_missing_fixture_file(workdir: Path, runner: CliRunner) -> None:
    exit_code, output, _ = _run(runner, ["verify", "good.yml", "nope.yml"])
    assert (exit_code, output.strip().splitlines()) == (2, ["error: nope.yml: no such file; check the path"])


def test_the_good_files_pass(workdir: Path, runner: CliRunner) -> None:
    """The baseline the bad cases are variations of."""
    assert _run(runner, ["validate", "good.yml"])[0] == 0
    exit_code, output, _ = _run(runner, ["verify", "good.yml", "fixture.yml"])
    assert exit_code == 0, output
