"""Semantic diff of two versions of a definition (SPEC §6): every change with a stable rule id and a category.

Categories:

- `breaking`: changes who counts as activated (milestones, their values, `require`, `within_days`, the accounts
  or logs source and columns, which set is primary), or renames, rescales or removes a member that existing
  Cube queries and dashboards read (`naming`, `percent_scale`, `dialect`, cube names, set names, milestone keys,
  removed sets and dimensions). A breaking change needs a `version` increase: `diff` exits 1 without one.
- `non-breaking`: adds something and changes no existing number (a set that is not primary, a dimension,
  `user_id`, a pre-aggregation).
- `metadata`: titles, descriptions, order that no number depends on, the version itself.

Milestones are matched by key (the identifier in member names), then by value; sets and dimensions by name,
and a set whose name changed but whose milestones and rule did not is reported as renamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from activation_semantic.definition import Definition, MilestoneSet
from activation_semantic.errors import DefinitionInvalid, FixtureInvalid, InputError
from activation_semantic.loader import LoadedDefinition, load_definition, load_definition_text
from activation_semantic.members import Loc, Members, SetMembers, build_members, milestone_key, required_count
from activation_semantic.report import Output, dumps, gh_annotation, step_summary
from activation_semantic.yaml_source import format_loc

Category = Literal["breaking", "non-breaking", "metadata"]
CATEGORIES: tuple[Category, ...] = ("breaking", "non-breaking", "metadata")

RULES: dict[str, tuple[Category, str]] = {
    # breaking: who counts as activated
    "MILESTONE_ADDED": ("breaking", "a milestone was added to an existing set"),
    "MILESTONE_REMOVED": ("breaking", "a milestone was removed from a set (or moved to another set)"),
    "MILESTONE_VALUE_CHANGED": ("breaking", "a milestone (same key) now matches a different log value"),
    "REQUIRE_CHANGED": ("breaking", "a set requires a different number of milestones"),
    "WINDOW_CHANGED": ("breaking", "a set's within_days window was changed, added or removed"),
    "SOURCE_CHANGED": ("breaking", "the accounts or logs source (sql_table, sql) or one of its columns changed"),
    "PRIMARY_SET_CHANGED": ("breaking", "another set is now first, so qualifiedAccounts/percentQualified change"),
    "DIMENSION_CHANGED": ("breaking", "an account dimension's sql or type changed (its slices change)"),
    # breaking: members that queries read are renamed, rescaled or removed
    "SET_REMOVED": ("breaking", "a milestone set and its members were removed"),
    "SET_RENAMED": ("breaking", "a set was renamed (same milestones and rule): its members are renamed"),
    "MILESTONE_KEY_CHANGED": ("breaking", "a milestone's key changed: its members are renamed"),
    "DIMENSION_REMOVED": ("breaking", "an account dimension was removed"),
    "USER_ID_REMOVED": ("breaking", "milestone_logs.user_id was removed with the ContributingUsers members"),
    "MEMBER_NAMES_CHANGED": ("breaking", "naming changed (camel/snake): every member is renamed"),
    "PERCENT_SCALE_CHANGED": ("breaking", "percent_scale changed: every percent member changes scale"),
    "DIALECT_CHANGED": ("breaking", "the SQL dialect changed: the generated SQL changes"),
    "CUBE_RENAMED": ("breaking", "a cube name changed: every member of that cube is renamed"),
    "DEFINITION_RENAMED": ("breaking", "the definition name changed: the generated view is renamed"),
    # non-breaking: additions
    "SET_ADDED": ("non-breaking", "a milestone set was added (added first, PRIMARY_SET_CHANGED is reported too)"),
    "DIMENSION_ADDED": ("non-breaking", "an account dimension was added"),
    "USER_ID_ADDED": ("non-breaking", "milestone_logs.user_id was added (adds ContributingUsers members)"),
    "PRE_AGGREGATIONS_CHANGED": ("non-breaking", "the Cube rollup was switched on or off (numbers unchanged)"),
    # metadata
    "TITLE_CHANGED": ("metadata", "a title changed"),
    "DESCRIPTION_CHANGED": ("metadata", "a description changed"),
    "SETS_REORDERED": ("metadata", "sets other than the primary one were reordered"),
    "MILESTONES_REORDERED": ("metadata", "a set's milestones were reordered (funnel order only)"),
    "DIMENSIONS_REORDERED": ("metadata", "account dimensions were reordered"),
    "REQUIRE_RESPELLED": ("metadata", "require was written differently with the same meaning (all vs 3, any vs 1)"),
    "VERSION_CHANGED": ("metadata", "the definition version changed"),
}


@dataclass(frozen=True)
class Change:
    rule: str
    path: str
    message: str
    line: int | None  # in the new file; for a removal, the entry that held the removed item
    old_line: int | None  # in the old file; None for an addition
    members: tuple[str, ...] = ()

    @property
    def category(self) -> Category:
        return RULES[self.rule][0]


@dataclass(frozen=True)
class MetricRow:
    metric: str
    old_member: str | None
    new_member: str | None
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class DiffResult:
    old: LoadedDefinition
    new: LoadedDefinition
    changes: list[Change]
    fixture: str | None = None
    metrics: list[MetricRow] | None = None

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.category == "breaking"]

    @property
    def version_bumped(self) -> bool:
        return self.new.definition.version > self.old.definition.version

    @property
    def ok(self) -> bool:
        return not self.breaking or self.version_bumped

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def count(self, category: str) -> int:
        return sum(1 for c in self.changes if c.category == category)

    def verdict(self) -> str:
        old_v, new_v = self.old.definition.version, self.new.definition.version
        if not self.breaking:
            return "ok: no breaking changes"
        if self.version_bumped:
            return f"ok: version bumped {old_v} → {new_v} for the breaking change(s)"
        was = f"stays {new_v}" if old_v == new_v else f"went from {old_v} down to {new_v}"
        return (f"error: {len(self.breaking)} breaking change(s) without a version bump: version {was}; "
                f"set `version: {old_v + 1}` in {self.new.source}")


# ---------------------------------------------------------------- members affected


def _q(cube: str, names: Iterable[str | None]) -> list[str]:
    return [f"{cube}.{n}" for n in names if n]


def _headline(d: Definition, m: Members) -> list[str]:
    return _q(d.accounts.cube, (m.qualified, m.percent, m.segment_qualified))


def _set_outcome(d: Definition, sm: SetMembers) -> list[str]:
    return _q(d.accounts.cube, (sm.qualified, sm.percent, sm.activated, sm.activated_at, sm.segment_qualified))


def _set_progress(d: Definition, sm: SetMembers) -> list[str]:
    return _set_outcome(d, sm) + _q(d.accounts.cube, (sm.completed, sm.users))


def _set_all(d: Definition, sm: SetMembers) -> list[str]:
    out = _set_progress(d, sm) + _q(d.accounts.cube, (sm.window_closed, sm.segment_mature))
    for mm in sm.milestones:
        out += _q(d.accounts.cube, (mm.accounts, mm.percent))
    return out


def _all_accounts(d: Definition, m: Members) -> list[str]:
    return _q(d.accounts.cube, (name for name, _ in m.accounts_names(d)))


def _all_logs(d: Definition, m: Members) -> list[str]:
    lg = m.logs
    return _q(d.milestone_logs.cube, (lg.total, lg.id, lg.account_id, lg.milestone, lg.completed_at, lg.user_id))


def _activation(d: Definition, m: Members) -> list[str]:
    out = _q(d.accounts.cube, (m.qualified, m.percent, m.segment_qualified))
    for sm in m.sets:
        out += _set_all(d, sm)
    return out


def _percents(d: Definition, m: Members) -> list[str]:
    names: list[str | None] = [m.percent]
    for sm in m.sets:
        names += [sm.percent] + [mm.percent for mm in sm.milestones]
    return _q(d.accounts.cube, names)


# ---------------------------------------------------------------- comparison


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _rule_text(s: MilestoneSet) -> str:
    n, req = len(s.milestones), required_count(s)
    if s.require == "all":
        return f"all {n}"
    if s.require == "any":
        return f"any 1 of {n}"
    return f"{req} of {n}"


def _window_text(days: int | None) -> str:
    return "no window" if days is None else f"within {days} day{'s' if days != 1 else ''} of signup"


def _sql(text: str | None) -> str | None:
    return None if text is None else text.strip()


class _Differ:
    def __init__(self, old: LoadedDefinition, new: LoadedDefinition) -> None:
        self.old, self.new = old, new
        self.od, self.nd = old.definition, new.definition
        self.om, self.nm = build_members(self.od), build_members(self.nd)
        self.changes: list[Change] = []

    # -- locations

    def _line(self, loaded: LoadedDefinition, loc: Loc | None, *, key: bool = False) -> int | None:
        if loc is None:
            return None
        pos = loaded.positions.of(loc, key=key)
        return pos[0] if pos else None

    def add(self, rule: str, message: str, *, new: Loc | None = None, old: Loc | None = None,
            within: Loc | None = None, members: Iterable[str] = ()) -> None:
        """`new`/`old`: the item on each side; `within`: where in the new file a removed item used to be."""
        assert rule in RULES, rule
        path = format_loc(new if new is not None else old if old is not None else ())
        line = self._line(self.new, new) if new is not None else self._line(self.new, within, key=True)
        self.changes.append(Change(rule, path, message, line, self._line(self.old, old),
                                   tuple(sorted(set(members)))))

    # -- top level

    def run(self) -> list[Change]:
        od, nd = self.od, self.nd
        if od.version != nd.version:
            self.add("VERSION_CHANGED", f"version {od.version} → {nd.version}"
                     + (" (lowered)" if nd.version < od.version else ""), new=("version",), old=("version",))
        if od.name != nd.name:
            self.add("DEFINITION_RENAMED", f"definition '{od.name}' is now '{nd.name}': view {self.om.view} becomes "
                     f"{self.nm.view} and its files are renamed", new=("name",), old=("name",),
                     members=[self.nm.view])
        if od.description != nd.description:
            self.add("DESCRIPTION_CHANGED", "the definition's description changed", new=("description",),
                     old=("description",))
        if od.dialect != nd.dialect:
            self.add("DIALECT_CHANGED", f"dialect {od.dialect} → {nd.dialect}: the generated SQL changes",
                     new=("dialect",), old=("dialect",), members=_all_accounts(nd, self.nm))
        if od.naming != nd.naming:
            self.add("MEMBER_NAMES_CHANGED", f"naming {od.naming} → {nd.naming}: {self.om.percent} is now "
                     f"{self.nm.percent}, and so on for every member", new=("naming",), old=("naming",),
                     members=_all_accounts(nd, self.nm) + _all_logs(nd, self.nm))
        if od.percent_scale != nd.percent_scale:
            self.add("PERCENT_SCALE_CHANGED", f"percent_scale {od.percent_scale} → {nd.percent_scale}: every percent "
                     f"member is now {'0-100' if nd.percent_scale == 100 else 'a 0-1 ratio'}",
                     new=("percent_scale",), old=("percent_scale",), members=_percents(nd, self.nm))
        if od.pre_aggregations != nd.pre_aggregations:
            self.add("PRE_AGGREGATIONS_CHANGED", f"pre_aggregations {str(od.pre_aggregations).lower()} → "
                     f"{str(nd.pre_aggregations).lower()}", new=("pre_aggregations",), old=("pre_aggregations",))
        self._sources()
        self._dimensions()
        self._sets()
        return self.changes

    def _sources(self) -> None:
        od, nd, nm = self.od, self.nd, self.nm
        for section in ("accounts", "milestone_logs"):
            o, n = getattr(od, section), getattr(nd, section)
            everything = _all_accounts(nd, nm) if section == "accounts" else _all_logs(nd, nm)
            if o.cube != n.cube:
                self.add("CUBE_RENAMED", f"cube {o.cube} is now {n.cube}: every {o.cube}.* member is renamed",
                         new=(section, "cube"), old=(section, "cube"), members=everything)
            if (o.sql_table, _sql(o.sql)) != (n.sql_table, _sql(n.sql)):
                was = f"table {o.sql_table}" if o.sql_table else f"SQL {_short(o.sql)}"
                now = f"table {n.sql_table}" if n.sql_table else f"SQL {_short(n.sql)}"
                attr = "sql_table" if n.sql_table else "sql"
                self.add("SOURCE_CHANGED", f"{section} now read from {now} (was {was})", new=(section, attr),
                         old=(section, "sql_table" if o.sql_table else "sql"),
                         members=_all_accounts(nd, nm) + _all_logs(nd, nm))
            columns = ("primary_key", "created_at") if section == "accounts" else (
                "primary_key", "account_id", "milestone", "completed_at")
            for column in columns:
                if getattr(o, column) != getattr(n, column):
                    if section == "milestone_logs" and column == "primary_key":
                        members = _q(n.cube, (nm.logs.total, nm.logs.id))
                    elif section == "accounts":
                        members = _all_accounts(nd, nm)
                    else:
                        members = _activation(nd, nm) + _all_logs(nd, nm)
                    self.add("SOURCE_CHANGED", f"{section}.{column} is now column {getattr(n, column)} "
                             f"(was {getattr(o, column)})", new=(section, column), old=(section, column),
                             members=members)
        o_user, n_user = od.milestone_logs.user_id, nd.milestone_logs.user_id
        users_new = _q(nd.accounts.cube, (sm.users for sm in nm.sets)) + _q(nd.milestone_logs.cube, (nm.logs.user_id,))
        users_old = _q(od.accounts.cube, (sm.users for sm in self.om.sets)) + _q(od.milestone_logs.cube,
                                                                                 (self.om.logs.user_id,))
        loc = ("milestone_logs", "user_id")
        if o_user is None and n_user is not None:
            self.add("USER_ID_ADDED", f"milestone_logs.user_id added (column {n_user})", new=loc, members=users_new)
        elif o_user is not None and n_user is None:
            self.add("USER_ID_REMOVED", f"milestone_logs.user_id removed (was column {o_user})", old=loc,
                     within=("milestone_logs",), members=users_old)
        elif o_user != n_user:
            self.add("SOURCE_CHANGED", f"milestone_logs.user_id is now column {n_user} (was {o_user})", new=loc,
                     old=loc, members=users_new)

    def _dimensions(self) -> None:
        cube_o, cube_n = self.od.accounts.cube, self.nd.accounts.cube
        old = {x.name: i for i, x in enumerate(self.od.accounts.dimensions)}
        new = {x.name: i for i, x in enumerate(self.nd.accounts.dimensions)}
        for name, i in old.items():
            if name not in new:
                self.add("DIMENSION_REMOVED", f"dimension {name} removed", old=("accounts", "dimensions", i),
                         within=("accounts", "dimensions"), members=_q(cube_o, (name,)))
        for name, j in new.items():
            loc: Loc = ("accounts", "dimensions", j)
            if name not in old:
                self.add("DIMENSION_ADDED", f"dimension {name} added", new=loc, members=_q(cube_n, (name,)))
                continue
            i = old[name]
            o, n = self.od.accounts.dimensions[i], self.nd.accounts.dimensions[j]
            oloc: Loc = ("accounts", "dimensions", i)
            for attr in ("sql", "type"):
                if _sql(getattr(o, attr)) != _sql(getattr(n, attr)):
                    self.add("DIMENSION_CHANGED", f"dimension {name}: {attr} {_short(getattr(o, attr))} → "
                             f"{_short(getattr(n, attr))}", new=(*loc, attr), old=(*oloc, attr),
                             members=_q(cube_n, (name,)))
            self._metadata(o, n, loc, oloc, f"dimension {name}")
        kept = [old[name] for name in new if name in old]
        if kept != sorted(kept):
            self.add("DIMENSIONS_REORDERED", "account dimensions reordered", new=("accounts", "dimensions"),
                     old=("accounts", "dimensions"))

    def _metadata(self, o: Any, n: Any, loc: Loc, oloc: Loc, what: str) -> None:
        for attr, rule in (("title", "TITLE_CHANGED"), ("description", "DESCRIPTION_CHANGED")):
            if getattr(o, attr, None) != getattr(n, attr, None):
                self.add(rule, f"{what}: {attr} {_short(getattr(o, attr))} → {_short(getattr(n, attr))}",
                         new=(*loc, attr), old=(*oloc, attr))

    # -- sets

    def _sets(self) -> None:
        olds, news = self.od.milestone_sets, self.nd.milestone_sets
        by_name = {s.name: i for i, s in enumerate(olds)}
        pairs: dict[int, int] = {}  # new index -> old index
        for j, s in enumerate(news):
            if s.name in by_name:
                pairs[j] = by_name[s.name]
        renamed: set[int] = set()
        free_old = [i for i in range(len(olds)) if i not in pairs.values()]
        for j, s in enumerate(news):
            if j in pairs:
                continue
            same = next((i for i in free_old if _signature(olds[i]) == _signature(s)), None)
            if same is not None:
                pairs[j] = same
                renamed.add(j)
                free_old.remove(same)
        counterpart = {i: j for j, i in pairs.items()}

        for i in range(len(olds)):
            if i not in counterpart:
                self._set_removed(i)
        for j in range(len(news)):
            if j not in pairs:
                self._set_added(j)
        for j, i in sorted(pairs.items()):
            self._set_changed(i, j, j in renamed)

        if pairs.get(0) != 0:
            o0, n0 = olds[0], news[0]
            if 0 not in counterpart:
                why = f"set '{o0.name}' was removed"
            elif 0 not in pairs:
                why = f"new set '{n0.name}' was added first"
            else:
                why = f"set '{n0.name}' moved to first place"
            self.add("PRIMARY_SET_CHANGED", f"the primary set (behind qualifiedAccounts and percentQualified) is now "
                     f"'{n0.name}', was '{o0.name}': {why}", new=("milestone_sets", 0), old=("milestone_sets", 0),
                     members=_headline(self.nd, self.nm))
        rest = [i for j, i in sorted(pairs.items()) if j != 0 and i != 0]
        if rest != sorted(rest):
            order_o = ", ".join(olds[i].name for i in sorted(rest))
            order_n = ", ".join(olds[i].name for i in rest)
            self.add("SETS_REORDERED", f"sets reordered: {order_o} → {order_n} (the primary set is unchanged)",
                     new=("milestone_sets",), old=("milestone_sets",))

    def _set_removed(self, i: int) -> None:
        s = self.od.milestone_sets[i]
        self.add("SET_REMOVED", f"set '{s.name}' removed with its members", old=("milestone_sets", i),
                 within=("milestone_sets",), members=_set_all(self.od, self.om.sets[i]))

    def _set_added(self, j: int) -> None:
        s = self.nd.milestone_sets[j]
        self.add("SET_ADDED", f"set '{s.name}' added ({len(s.milestones)} milestones, requires {_rule_text(s)}, "
                 f"{_window_text(s.within_days)})", new=("milestone_sets", j), members=_set_all(self.nd, self.nm.sets[j]))

    def _set_changed(self, i: int, j: int, renamed: bool) -> None:
        o, n = self.od.milestone_sets[i], self.nd.milestone_sets[j]
        osm, nsm = self.om.sets[i], self.nm.sets[j]
        loc: Loc = ("milestone_sets", j)
        oloc: Loc = ("milestone_sets", i)
        headline = _headline(self.nd, self.nm) if j == 0 else []
        if renamed:
            primary = " (the primary set)" if j == 0 else ""
            self.add("SET_RENAMED", f"set '{o.name}'{primary} renamed to '{n.name}' with the same milestones and rule: "
                     f"{osm.qualified} is now {nsm.qualified}, and so on", new=(*loc, "name"), old=(*oloc, "name"),
                     members=_set_all(self.nd, nsm))
        label = f"set '{n.name}'"
        self._metadata(o, n, loc, oloc, label)
        self._milestones(i, j, headline)
        o_req, n_req = required_count(o), required_count(n)
        if o.require != n.require:
            if o_req != n_req:
                self.add("REQUIRE_CHANGED", f"{label} now requires {_rule_text(n)} milestones (was {_rule_text(o)})",
                         new=(*loc, "require"), old=(*oloc, "require"), members=_set_outcome(self.nd, nsm) + headline)
            else:
                self.add("REQUIRE_RESPELLED", f"{label}: require {o.require} → {n.require}, the same {n_req} of "
                         f"{len(n.milestones)} milestones", new=(*loc, "require"), old=(*oloc, "require"))
        if o.within_days != n.within_days:
            members = _set_all(self.nd, nsm) + _q(self.od.accounts.cube, (osm.window_closed, osm.segment_mature))
            self.add("WINDOW_CHANGED", f"{label} now counts completions {_window_text(n.within_days)} "
                     f"(was {_window_text(o.within_days)})", new=(*loc, "within_days"), old=(*oloc, "within_days"),
                     members=members + headline)

    def _milestones(self, i: int, j: int, headline: list[str]) -> None:
        o, n = self.od.milestone_sets[i], self.nd.milestone_sets[j]
        osm, nsm = self.om.sets[i], self.nm.sets[j]
        okeys = [milestone_key(m, k + 1) for k, m in enumerate(o.milestones)]
        nkeys = [milestone_key(m, k + 1) for k, m in enumerate(n.milestones)]
        pairs: dict[int, int] = {}  # new position -> old position
        for b, key in enumerate(nkeys):
            if key in okeys:
                pairs[b] = okeys.index(key)
        free_old = [a for a in range(len(okeys)) if a not in pairs.values()]
        ovalues = {o.milestones[a].value: a for a in free_old}
        for b, m in enumerate(n.milestones):
            if b not in pairs and m.value in ovalues:
                pairs[b] = ovalues.pop(m.value)
        matched_old = set(pairs.values())
        set_loc: Loc = ("milestone_sets", j)
        progress = _set_progress(self.nd, nsm) + headline
        acc_o, acc_n = self.od.accounts.cube, self.nd.accounts.cube
        for a, m in enumerate(o.milestones):
            if a in matched_old:
                continue
            elsewhere = [s.name for s in self.nd.milestone_sets if s.name != n.name
                         and any(x.value == m.value for x in s.milestones)]
            note = f" (now in set '{elsewhere[0]}')" if elsewhere else ""
            mm = osm.milestones[a]
            self.add("MILESTONE_REMOVED", f"milestone {_short(m.value)} removed from set '{n.name}'{note}",
                     old=(*("milestone_sets", i), "milestones", a), within=(*set_loc, "milestones"),
                     members=progress + _q(acc_o, (mm.accounts, mm.percent)))
        for b, m in enumerate(n.milestones):
            mloc: Loc = (*set_loc, "milestones", b)
            mm = nsm.milestones[b]
            own = _q(acc_n, (mm.accounts, mm.percent))
            if b not in pairs:
                elsewhere = [s.name for s in self.od.milestone_sets if s.name != o.name
                             and any(x.value == m.value for x in s.milestones)]
                note = f" (was in set '{elsewhere[0]}')" if elsewhere else ""
                self.add("MILESTONE_ADDED", f"milestone {_short(m.value)} added to set '{n.name}'{note}", new=mloc,
                         members=progress + own)
                continue
            a = pairs[b]
            om_ = o.milestones[a]
            oloc: Loc = ("milestone_sets", i, "milestones", a)
            if om_.value != m.value:
                self.add("MILESTONE_VALUE_CHANGED", f"milestone '{nkeys[b]}' of set '{n.name}' now matches log value "
                         f"{_short(m.value)} (was {_short(om_.value)})", new=(*mloc, "value"), old=(*oloc, "value"),
                         members=progress + own)
            if okeys[a] != nkeys[b]:
                self.add("MILESTONE_KEY_CHANGED", f"milestone {_short(m.value)} of set '{n.name}': key '{okeys[a]}' → "
                         f"'{nkeys[b]}', so {osm.milestones[a].accounts} is now {mm.accounts}", new=mloc, old=oloc,
                         members=own)
            self._metadata(om_, m, mloc, oloc, f"milestone {_short(m.value)} of set '{n.name}'")
        kept = [pairs[b] for b in sorted(pairs)]
        if kept != sorted(kept):
            self.add("MILESTONES_REORDERED", f"milestones of set '{n.name}' reordered (funnel order only; no number "
                     "changes)", new=(*set_loc, "milestones"), old=("milestone_sets", i, "milestones"))


def _signature(s: MilestoneSet) -> tuple[Any, ...]:
    return (frozenset(m.value for m in s.milestones), required_count(s), s.within_days)


def diff_definitions(old: LoadedDefinition, new: LoadedDefinition) -> list[Change]:
    """Every semantic change from `old` to `new`, in a stable order (by category, then new-file line)."""
    changes = _Differ(old, new).run()
    order = {c: k for k, c in enumerate(CATEGORIES)}
    return sorted(changes, key=lambda c: (order[c.category], c.line or 0, c.rule, c.path))


# ---------------------------------------------------------------- loading both sides


def _load_old(load: Any, what: str) -> LoadedDefinition:
    try:
        return load()
    except DefinitionInvalid as exc:
        raise InputError(f"the old side {what} is not a valid definition, so there is nothing to compare with:\n"
                         + exc.message, exc.findings) from None


def load_sides(old: Path, new: Path | None, against: str | None) -> tuple[LoadedDefinition, LoadedDefinition]:
    """(old, new): two files, or with `against` the file `old` as committed at that git ref and as it is now."""
    if against is not None:
        from activation_semantic.git_source import read_at_ref

        current = load_definition(old)
        text, display = read_at_ref(old, against)
        return _load_old(lambda: load_definition_text(text, display), display), current
    assert new is not None
    current = load_definition(new)
    return _load_old(lambda: load_definition(old), str(old)), current


def run_diff(old: Path, new: Path | None, against: str | None, fixture: Path | None = None) -> DiffResult:
    old_loaded, new_loaded = load_sides(old, new, against)
    result = DiffResult(old_loaded, new_loaded, diff_definitions(old_loaded, new_loaded))
    if fixture is not None:
        result.fixture = str(fixture)
        result.metrics = headline_metrics(old_loaded, new_loaded, fixture)
    return result


# ---------------------------------------------------------------- metrics under both versions


def _metric_keys(m: Members) -> list[tuple[tuple[str, ...], str]]:
    out = [(("total",), m.total), (("qualified",), m.qualified), (("percent",), m.percent)]
    for sm in m.sets:
        out += [(("set", sm.spec.name, "qualified"), sm.qualified), (("set", sm.spec.name, "percent"), sm.percent)]
    return out


def _measure(loaded: LoadedDefinition, fixture: Any) -> dict[tuple[str, ...], tuple[str, Any]]:
    """Headline and per-set numbers of one definition over the fixture's tables, through the generated files."""
    import duckdb

    from activation_semantic import builtin_engine
    from activation_semantic.compare import plain
    from activation_semantic.cube_query import QueryError
    from activation_semantic.harness import builtin_rows

    d = loaded.definition
    keys = _metric_keys(build_members(d))
    cube = d.accounts.cube
    query = {"measures": [f"{cube}.{name}" for _, name in keys]}
    try:
        rows = builtin_rows(loaded, fixture, query)
    except (QueryError, builtin_engine.Unsupported) as exc:
        raise FixtureInvalid(f"{loaded.source}: cannot plan the headline query: {exc}") from None
    except duckdb.Error as exc:
        raise FixtureInvalid(f"{fixture.path}: the headline query of {loaded.source} failed in DuckDB: "
                             f"{str(exc).splitlines()[0]}") from None
    values = rows[0] if rows else {}
    return {key: (f"{cube}.{name}", plain(values.get(f"{cube}.{name}"))) for key, name in keys}


def headline_metrics(old: LoadedDefinition, new: LoadedDefinition, fixture_path: Path) -> list[MetricRow]:
    from activation_semantic.fixtures import load_fixture

    fixture = load_fixture(fixture_path)
    before, after = _measure(old, fixture), _measure(new, fixture)
    order = list(after) + [k for k in before if k not in after]
    rows = []
    for key in order:
        o, n = before.get(key), after.get(key)
        label = (n or o)[0]  # type: ignore[index]
        rows.append(MetricRow(label, o[0] if o else None, n[0] if n else None, o[1] if o else None,
                              n[1] if n else None))
    return rows


# ---------------------------------------------------------------- output


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    text = f"{value:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _members_text(members: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(members[:limit])
    return shown + (f" (+{len(members) - limit} more)" if len(members) > limit else "")


def _where(result: DiffResult, c: Change) -> str:
    if c.line is not None:
        return f"{result.new.source}:{c.line}"
    return result.new.source


def _headline_text(result: DiffResult) -> str:
    o, n = result.old.definition, result.new.definition
    return (f"{result.old.source} → {result.new.source}: {n.name} version {o.version} → {n.version}; "
            f"{result.count('breaking')} breaking, {result.count('non-breaking')} non-breaking, "
            f"{result.count('metadata')} metadata")


def _metrics_lines(result: DiffResult) -> list[str]:
    if result.metrics is None:
        return []
    width = max((len(r.metric) for r in result.metrics), default=0)
    lines = [f"metrics on {result.fixture} (old → new):"]
    for r in result.metrics:
        mark = "" if r.changed else "  (unchanged)"
        renamed = f"  (was {r.old_member})" if r.old_member and r.new_member and r.old_member != r.new_member else ""
        lines.append(f"  {r.metric:<{width}}  {_fmt(r.old)} → {_fmt(r.new)}{mark}{renamed}")
    return lines


def change_dict(c: Change, result: DiffResult) -> dict[str, Any]:
    return {"rule": c.rule, "category": c.category, "path": c.path, "message": c.message,
            "file": result.new.source, "line": c.line, "old_file": result.old.source, "old_line": c.old_line,
            "members": list(c.members)}


def _side(loaded: LoadedDefinition) -> dict[str, Any]:
    d = loaded.definition
    return {"file": loaded.source, "name": d.name, "version": d.version, "sha256": loaded.sha256}


def to_json(result: DiffResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "exit_code": result.exit_code,
        "old": _side(result.old),
        "new": _side(result.new),
        "version_bumped": result.version_bumped,
        "summary": {c: result.count(c) for c in CATEGORIES},
        "changes": [change_dict(c, result) for c in result.changes],
        "fixture": result.fixture,
        "metrics": None if result.metrics is None else [
            {"metric": r.metric, "old_member": r.old_member, "new_member": r.new_member, "old": r.old, "new": r.new,
             "changed": r.changed} for r in result.metrics],
        "verdict": result.verdict(),
    }


def _markdown(result: DiffResult) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    icon = "✅" if result.ok else "❌"
    lines = [f"### activation-semantic diff: {cell(result.new.definition.name)}", "",
             f"{icon} {cell(result.verdict())}", "", cell(_headline_text(result)), ""]
    if result.changes:
        lines += ["| Category | Rule | Where | Change | Members |", "| --- | --- | --- | --- | --- |"]
        for c in result.changes:
            lines.append(f"| {c.category} | `{c.rule}` | `{cell(_where(result, c))}` | {cell(c.message)} | "
                         f"{cell(_members_text(c.members, 5))} |")
        lines.append("")
    if result.metrics is not None:
        lines += [f"Metrics on `{cell(str(result.fixture))}`:", "", "| Metric | Old | New |", "| --- | ---: | ---: |"]
        lines += [f"| `{cell(r.metric)}` | {_fmt(r.old)} | {_fmt(r.new)} |" for r in result.metrics]
    return "\n".join(lines)


def render_diff(result: DiffResult, output: Output) -> str:
    """The report for `diff`; with output=github also appends a summary to $GITHUB_STEP_SUMMARY."""
    if output == "json":
        return dumps(to_json(result))
    if output == "github":
        out = []
        for c in result.changes:
            level = ("error" if not result.ok else "warning") if c.category == "breaking" else "notice"
            text = c.message + (f"\nmembers: {_members_text(c.members)}" if c.members else "")
            out.append(gh_annotation(level, text, result.new.source, c.line, title=f"{c.rule} ({c.category})"))
        if not result.ok:
            line = result.new.positions.of(("version",))
            out.append(gh_annotation("error", result.verdict().removeprefix("error: "), result.new.source,
                                     line[0] if line else None, title="version bump needed"))
        out.append(_headline_text(result))
        out += _metrics_lines(result)
        out.append(result.verdict())
        step_summary(_markdown(result))
        return "\n".join(out)
    lines = [_headline_text(result)]
    if not result.changes:
        lines.append("no semantic changes")
    for c in result.changes:
        lines.append(f"{c.category:<13} {c.rule:<24} {_where(result, c)} ({c.path})")
        lines.append(f"    {c.message}")
        if c.members:
            lines.append(f"    members: {_members_text(c.members)}")
    lines += _metrics_lines(result)
    lines.append(result.verdict())
    return "\n".join(lines)

