"""Every member name the generated model exposes, derived once from a definition."""

from __future__ import annotations

import re
from dataclasses import dataclass

from activation_semantic.definition import Definition, Milestone, MilestoneSet
from activation_semantic.naming import Namer, derive_key

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class MilestoneMembers:
    milestone: Milestone
    key: str
    accounts: str
    percent: str
    loc: Loc


@dataclass(frozen=True)
class SetMembers:
    spec: MilestoneSet
    index: int
    required: int
    qualified: str
    percent: str
    completed: str
    activated: str
    activated_at: str
    window_closed: str | None
    users: str | None
    segment_qualified: str
    segment_mature: str | None
    milestones: tuple[MilestoneMembers, ...]


@dataclass(frozen=True)
class LogsMembers:
    total: str
    id: str
    account_id: str
    milestone: str
    completed_at: str
    user_id: str | None


@dataclass(frozen=True)
class Members:
    total: str
    qualified: str
    percent: str
    id: str
    created_at: str
    segment_qualified: str
    view: str
    sets: tuple[SetMembers, ...]
    logs: LogsMembers

    def accounts_names(self, definition: Definition) -> list[tuple[str, Loc]]:
        """(member name, definition location that causes it) for every Accounts member and segment."""
        out: list[tuple[str, Loc]] = [(n, ()) for n in (self.total, self.qualified, self.percent, self.id,
                                                           self.created_at, self.segment_qualified)]
        for i, dim in enumerate(definition.accounts.dimensions):
            out.append((dim.name, ("accounts", "dimensions", i, "name")))
        for s in self.sets:
            set_loc: Loc = ("milestone_sets", s.index, "name")
            for n in (s.qualified, s.percent, s.completed, s.activated, s.activated_at, s.window_closed, s.users,
                      s.segment_qualified, s.segment_mature):
                if n is not None:
                    out.append((n, set_loc))
            for m in s.milestones:
                out.extend([(m.accounts, m.loc), (m.percent, m.loc)])
        return out


def required_count(spec: MilestoneSet) -> int:
    if spec.require == "all":
        return len(spec.milestones)
    if spec.require == "any":
        return 1
    return int(spec.require)


def milestone_key(milestone: Milestone, position: int) -> str:
    return milestone.key or derive_key(milestone.value, position)


def pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"_+", name) if p)


def build_members(definition: Definition) -> Members:
    n = Namer(definition.naming)
    logs = definition.milestone_logs
    sets = []
    for i, spec in enumerate(definition.milestone_sets):
        s = spec.name
        windowed = spec.within_days is not None
        milestones = []
        for j, m in enumerate(spec.milestones):
            key = milestone_key(m, j + 1)
            loc: Loc = ("milestone_sets", i, "milestones", j) + (("key",) if m.key else ())
            milestones.append(MilestoneMembers(m, key, n(s, key, "accounts"), n(s, key, "percent"), loc))
        sets.append(SetMembers(
            spec=spec, index=i, required=required_count(spec),
            qualified=n(s, "qualified_accounts"), percent=n(s, "percent_qualified"),
            completed=n(s, "milestones_completed"), activated=n(s, "activated"),
            activated_at=n(s, "activated_at"),
            window_closed=n(s, "window_closed") if windowed else None,
            users=n(s, "contributing_users") if logs.user_id else None,
            segment_qualified=n(s, "qualified"),
            segment_mature=n(s, "mature") if windowed else None,
            milestones=tuple(milestones),
        ))
    view = pascal(definition.name) + "Activation" if definition.naming == "camel" else definition.name + "_activation"
    return Members(
        total=n("total_accounts"), qualified=n("qualified_accounts"), percent=n("percent_qualified"),
        id="id", created_at=n("created_at"), segment_qualified=n("qualified"), view=view,
        sets=tuple(sets),
        logs=LogsMembers(
            total=n("total_milestones_completed"), id="id", account_id=n("account_id"),
            milestone=n("milestone_name"), completed_at=n("completion_date"),
            user_id=n("user_id") if logs.user_id else None,
        ),
    )
