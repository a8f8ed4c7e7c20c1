"""Definition → format-neutral Cube model (members, SQL, titles); templates only render it."""

from __future__ import annotations

from activation_semantic import fold_sql
from activation_semantic.cube_model import (
    Cube,
    CubeModel,
    Dimension,
    Join,
    Measure,
    PreAggregation,
    Ref,
    Segment,
    Sql,
    View,
    ViewCube,
    col,
    sql,
    template,
)
from activation_semantic.definition import Definition, MilestoneSet
from activation_semantic.dialects import DIALECTS
from activation_semantic.fold_sql import Columns
from activation_semantic.members import Members, SetMembers, build_members


def _rule(s: MilestoneSet, required: int) -> str:
    n = len(s.milestones)
    if required == n:
        what = "all" if n > 1 else "the"
        rule = f"{what} {n} milestone{'s' if n > 1 else ''}"
    elif required == 1:
        rule = f"at least one of {n} milestones"
    else:
        rule = f"at least {required} of {n} milestones"
    if s.within_days is not None:
        rule += f" within {s.within_days} day{'s' if s.within_days > 1 else ''} of signup"
    return rule


def _set_title(s: MilestoneSet) -> str:
    return s.title or s.name.replace("_", " ").capitalize()


def _percent(d: Definition, numerator: str, total: str) -> Sql:
    scale = "100.0" if d.percent_scale == 100 else "1.0"
    return sql(f"{scale} * ", Ref((numerator,)), " / NULLIF(", Ref((total,)), ", 0)")


def _set_members(d: Definition, m: Members, sm: SetMembers) -> tuple[list[Measure], list[Dimension], list[Segment]]:
    s, i = sm.spec, sm.index
    title = _set_title(s)
    rule = _rule(s, sm.required)
    activated = sql("(", *col(Columns.activated_at(i)), " IS NOT NULL)")
    measures = [
        Measure(sm.qualified, "count", col(d.accounts.primary_key), (activated,), f"{title}: Qualified Accounts",
                f"Accounts that completed {rule}."),
        Measure(sm.percent, "number", _percent(d, sm.qualified, m.total), (), f"{title}: Percent Qualified",
                f"Share of accounts that completed {rule}.", "percent"),
    ]
    for j, mm in enumerate(sm.milestones):
        label = mm.milestone.title or mm.key.replace("_", " ").capitalize()
        window = f" within {s.within_days} days of signup" if s.within_days is not None else ""
        done = sql(*col(Columns.first(i, j)), " IS NOT NULL")
        measures.append(Measure(mm.accounts, "count", col(d.accounts.primary_key), (done,),
                                f"{title}: {label} (accounts)", f"Accounts that completed this milestone{window}."))
        measures.append(Measure(mm.percent, "number", _percent(d, mm.accounts, m.total), (),
                                f"{title}: {label} (percent)",
                                f"Share of accounts that completed this milestone{window}.", "percent"))
    dims = [
        Dimension(sm.completed, "number", col(Columns.completed(i)), title=f"{title}: Milestones Completed",
                  description=f"Distinct milestones of the set completed (of {len(s.milestones)})."),
        Dimension(sm.activated, "boolean", activated, title=f"{title}: Activated",
                  description=f"Whether the account completed {rule}."),
        Dimension(sm.activated_at, "time", col(Columns.activated_at(i)), title=f"{title}: Activated At",
                  description="When the account completed the last milestone it needed; empty if not activated."),
    ]
    segments = [Segment(sm.segment_qualified, activated, f"{title}: Qualified Accounts")]
    if s.within_days is not None:
        closed = _window_closed(d, s.within_days)
        dims.append(Dimension(sm.window_closed, "boolean", closed, title=f"{title}: Window Closed",
                              description=f"Whether the {s.within_days}-day window since signup has fully elapsed; "
                                          "leave open cohorts out instead of reading them as failures."))
        segments.append(Segment(sm.segment_mature, closed, f"{title}: Window Closed"))
    if sm.users is not None:
        dims.append(Dimension(sm.users, "number", col(Columns.users(i)), title=f"{title}: Contributing Users",
                              description="Distinct users whose qualifying logs completed milestones of the set."))
    return measures, dims, segments


def _window_closed(d: Definition, days: int) -> Sql:
    dialect = DIALECTS[d.dialect]
    return template(f"({dialect.add_hours('{CUBE}.' + d.accounts.created_at, days * 24)} <= {dialect.now})")


def build_model(d: Definition) -> CubeModel:
    m = build_members(d)
    acc, logs = d.accounts, d.milestone_logs
    primary = m.sets[0]
    base_measures = [
        Measure(m.total, "count", col(acc.primary_key), (), "Total Accounts",
                "Accounts in the slice (new accounts entering onboarding)."),
        Measure(m.qualified, "count", col(acc.primary_key),
                (sql(*col(Columns.activated_at(0)), " IS NOT NULL"),), "Qualified Accounts",
                f"Accounts that completed {_rule(primary.spec, primary.required)} "
                f"(set '{primary.spec.name}').",),
        Measure(m.percent, "number", _percent(d, m.qualified, m.total), (),
                "Percent of Accounts Completing Key Activation Milestones",
                "Share of accounts that reached the primary set's activation milestones.", "percent"),
    ]
    dims = [
        Dimension(m.id, "string", col(acc.primary_key), primary_key=True, public=True, title="Account ID"),
        Dimension(m.created_at, "time", col(acc.created_at), title="Account Creation Date"),
    ]
    for dim in acc.dimensions:
        expr = dim.sql.strip() if fold_sql.is_column(dim.sql) else Columns.dimension(dim.name)
        dims.append(Dimension(dim.name, dim.type, col(expr), title=dim.title, description=dim.description))
    segments = [Segment(m.segment_qualified, sql("(", *col(Columns.activated_at(0)), " IS NOT NULL)"), "Qualified Accounts")]
    measures = list(base_measures)
    for sm in m.sets:
        ms, ds, ss = _set_members(d, m, sm)
        measures += ms
        dims += ds
        segments += ss

    pre_aggs: tuple[PreAggregation, ...] = ()
    if d.pre_aggregations:
        additive = tuple(x.name for x in measures if x.type == "count")
        pre_aggs = (PreAggregation("activation", additive, tuple(dim.name for dim in acc.dimensions),
                                   m.created_at, "day"),)
    accounts = Cube(
        name=acc.cube,
        sql=(fold_sql.accounts_sql(d, m),),
        title="Accounts",
        description=(d.description or f"Accounts and their activation ({d.name} v{d.version})."),
        joins=(Join(logs.cube, "one_to_many",
                    sql(*col(acc.primary_key), " = ", Ref((logs.cube,)), "." + logs.account_id)),),
        measures=tuple(measures),
        dimensions=tuple(dims),
        segments=tuple(segments),
        pre_aggregations=pre_aggs,
    )
    log_dims = [
        Dimension(m.logs.id, "string", col(logs.primary_key), primary_key=True, title="Log ID"),
        Dimension(m.logs.account_id, "string", col(logs.account_id), title="Account ID"),
        Dimension(m.logs.milestone, "string", col(logs.milestone), title="Milestone Name"),
        Dimension(m.logs.completed_at, "time", col(logs.completed_at), title="Completion Date"),
    ]
    if logs.user_id and m.logs.user_id:
        log_dims.append(Dimension(m.logs.user_id, "string", col(logs.user_id), title="User ID"))
    logs_cube = Cube(
        name=logs.cube,
        sql=None if logs.sql is None else (logs.sql.strip(),),
        sql_table=logs.sql_table,
        title="Milestone Completion Logs",
        description="One row per logged milestone completion.",
        measures=(Measure(m.logs.total, "count", col(logs.primary_key), (), "Total Milestones Completed",
                          "Logged milestone completions."),),
        dimensions=tuple(log_dims),
    )
    view = View(
        name=m.view,
        title=f"{d.name.replace('_', ' ').capitalize()} activation",
        description=f"Activation members of definition '{d.name}' v{d.version}, for BI tools.",
        cubes=(ViewCube(acc.cube, tuple(x.name for x in measures) + tuple(x.name for x in dims)
                         + tuple(x.name for x in segments)),),
    )
    return CubeModel(cubes=(accounts, logs_cube), views=(view,))
