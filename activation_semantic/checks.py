"""Rules that span fields (counts, uniqueness, collisions), reported with the location that breaks them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from activation_semantic.definition import Definition, MilestoneSet
from activation_semantic.members import Loc, build_members, milestone_key
from activation_semantic.naming import collision_key


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character, which no warehouse stores in text"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "contains a lone UTF-16 surrogate, which is not valid unicode text"
    return None


def _texts(d: Definition) -> Iterator[tuple[Loc, str]]:
    if d.description:
        yield ("description",), d.description
    for section in ("accounts", "milestone_logs"):
        src = getattr(d, section)
        if src.sql:
            yield (section, "sql"), src.sql
    for i, dim in enumerate(d.accounts.dimensions):
        for attr in ("sql", "title", "description"):
            if getattr(dim, attr):
                yield ("accounts", "dimensions", i, attr), getattr(dim, attr)
    for i, s in enumerate(d.milestone_sets):
        for attr in ("title", "description"):
            if getattr(s, attr):
                yield ("milestone_sets", i, attr), getattr(s, attr)
        for j, m in enumerate(s.milestones):
            yield ("milestone_sets", i, "milestones", j, "value"), m.value
            if m.title:
                yield ("milestone_sets", i, "milestones", j, "title"), m.title


_PARAM_MARKER = re.compile(r"\$\d+\$")
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_NESTED = "this SQL is nested inside the query Cube generates"


def _scan_sql(sql: str, dialect: str) -> tuple[list[int], str | None]:
    """Offsets of `;` outside strings and comments, and what swallows the end of the text, if anything."""
    backslash = dialect in ("snowflake", "bigquery")
    line_comments = ("--", "#") if dialect == "bigquery" else ("--",)
    semis: list[int] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        dollar = _DOLLAR_QUOTE.match(sql, i) if c == "$" else None
        if dollar:
            end = sql.find(dollar.group(), dollar.end())
            if end < 0:
                return semis, f"has an unclosed {dollar.group()} quote"
            i = end + len(dollar.group())
        elif c in "'\"`":
            escapes = backslash or (c == "'" and sql[i - 1 : i] in ("E", "e") and not sql[i - 2 : i - 1].isalnum())
            j = i + 1
            while j < n:
                if (escapes and sql[j] == "\\") or (sql[j] == c and sql[j + 1 : j + 2] == c):  # \' or ''
                    j += 2
                elif sql[j] == c:
                    break
                else:
                    j += 1
            if j >= n:
                return semis, f"has an unclosed {c} quote"
            i = j + 1
        elif sql.startswith(line_comments, i):
            end = sql.find("\n", i)
            if end < 0:
                return semis, f"ends with a {sql[i:i + 2].rstrip()} comment"
            i = end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                return semis, "has an unclosed /* comment"
            i = end + 2
        else:
            if c == ";":
                semis.append(i)
            i += 1
    return semis, None


def _sql_problems(sql: str, dialect: str, *, inline: bool) -> list[str]:
    """What breaks user SQL once it is nested in generated SQL; `inline`: no line break follows it there."""
    out = []
    marker = _PARAM_MARKER.search(sql)
    if marker:
        dollar = marker.group()
        out.append(f"contains '{dollar}', which Cube reads as a query parameter marker (even inside a string "
                   f"literal); write it another way, e.g. '$' || '{dollar[1:]}'")
    text = sql.strip()
    semis, swallowed = _scan_sql(text, dialect)
    if semis == [len(text) - 1]:
        out.append(f"ends with ';'; remove it: {_NESTED}")
    elif semis:
        out.append(f"contains ';' outside a string; give a single query or expression without ';': {_NESTED}")
    if swallowed and (inline or not swallowed.startswith("ends")):
        fix = "use /* ... */ instead" if swallowed.startswith("ends") else "close it"
        out.append(f"{swallowed}, which would swallow the SQL generated after it; {fix}")
    return out


def _sql_checks(d: Definition) -> Iterator[tuple[Loc, str]]:
    for section in ("accounts", "milestone_logs"):
        src = getattr(d, section)
        if src.sql_table is not None and _PARAM_MARKER.search(src.sql_table):
            yield ((section, "sql_table"), f"table name '{src.sql_table}' contains "
                                           f"'{_PARAM_MARKER.search(src.sql_table).group()}', which Cube reads as "
                                           "a query parameter marker; use a view or sql: with a quoted name")
        if src.sql is not None:
            for problem in _sql_problems(src.sql, d.dialect, inline=section == "milestone_logs"):
                yield (section, "sql"), problem
    for i, dim in enumerate(d.accounts.dimensions):
        for problem in _sql_problems(dim.sql, d.dialect, inline=True):
            yield ("accounts", "dimensions", i, "sql"), problem


def check_sets(sets: list[tuple[int, MilestoneSet]]) -> list[tuple[Loc, str]]:
    """Rules within and across milestone sets; runs on whichever sets are individually valid."""
    problems: list[tuple[Loc, str]] = []
    seen_sets: dict[str, int] = {}
    for i, s in sets:
        if s.name in seen_sets:
            problems.append((("milestone_sets", i, "name"),
                             f"set name '{s.name}' is already used by milestone_sets[{seen_sets[s.name]}]; "
                             "set names must be unique"))
        seen_sets.setdefault(s.name, i)
        values: dict[str, int] = {}
        keys: dict[str, int] = {}
        for j, m in enumerate(s.milestones):
            if m.value in values:
                problems.append((("milestone_sets", i, "milestones", j),
                                 f"milestone {m.value!r} is listed twice in set '{s.name}' "
                                 f"(also milestones[{values[m.value]}]); list it once"))
                continue
            values[m.value] = j
            key = milestone_key(m, j + 1)
            if key in keys:
                how = "" if m.key else f" (derived from {m.value!r})"
                problems.append((("milestone_sets", i, "milestones", j) + (("key",) if m.key else ()),
                                 f"key '{key}'{how} is also the key of milestones[{keys[key]}] in set "
                                 f"'{s.name}'; give one of them a distinct key"))
            keys.setdefault(key, j)
        if isinstance(s.require, int) and s.require > len(s.milestones):
            problems.append((("milestone_sets", i, "require"),
                             f"{s.require} is more than the {len(s.milestones)} milestones in set '{s.name}'"))
    return problems


def check(d: Definition) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for section in ("accounts", "milestone_logs"):
        src = getattr(d, section)
        if (src.sql_table is None) == (src.sql is None):
            problems.append(((section,), "set exactly one of sql_table (a table name) or sql (a SELECT)"))
    problems.extend(_sql_checks(d))
    if d.accounts.cube == d.milestone_logs.cube:
        problems.append((("milestone_logs", "cube"), f"cube name '{d.milestone_logs.cube}' is also the accounts cube; "
                                                      "give the two cubes different names"))
    for loc, text in _texts(d):
        problem = _text_problem(text)
        if problem:
            problems.append((loc, problem))

    problems.extend(check_sets(list(enumerate(d.milestone_sets))))
    if problems:
        return problems

    members = build_members(d)
    taken: dict[str, tuple[str, Loc]] = {}
    for name, loc in members.accounts_names(d):
        ck = collision_key(name)
        if ck in taken:
            other, other_loc = taken[ck]
            where = _describe(other_loc)
            problems.append((loc, f"member name '{name}' collides with '{other}'{where} in cube "
                                  f"'{d.accounts.cube}'; rename the set, the key or the dimension"))
        else:
            taken[ck] = (name, loc)
    cube_names = {d.accounts.cube, d.milestone_logs.cube}
    if members.view in cube_names:
        problems.append((("name",), f"the view '{members.view}' would have the name of a cube; rename a cube"))
    return problems


def _describe(loc: Loc) -> str:
    if not loc:
        return " (a built-in member)"
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return f" (from {out})"
