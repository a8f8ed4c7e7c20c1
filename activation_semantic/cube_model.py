"""A format-neutral Cube model: what the templates render and what the parsers read back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    """A Cube reference such as {CUBE}, {qualifiedAccounts} or {MilestoneCompletionLogs.accountId}."""

    path: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.path)


Sql = tuple[str | Ref, ...]


def sql(*parts: str | Ref) -> Sql:
    """Join adjacent text parts so equal SQL always has one representation."""
    out: list[str | Ref] = []
    for p in parts:
        if isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += p
                continue
        out.append(p)
    return tuple(out)


CUBE = Ref(("CUBE",))

_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def template(text: str) -> Sql:
    """Parse `{CUBE}`-style references in SQL the generator writes itself (never in user text)."""
    parts: list[str | Ref] = []
    last = 0
    for m in _REF.finditer(text):
        parts.extend([text[last : m.start()], Ref(tuple(m.group(1).split(".")))])
        last = m.end()
    parts.append(text[last:])
    return sql(*parts)


def col(name: str) -> Sql:
    return sql(CUBE, "." + name)


@dataclass(frozen=True)
class Measure:
    name: str
    type: str
    sql: Sql | None = None
    filters: tuple[Sql, ...] = ()
    title: str | None = None
    description: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Dimension:
    name: str
    type: str
    sql: Sql
    primary_key: bool = False
    public: bool | None = None
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Segment:
    name: str
    sql: Sql
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Join:
    name: str
    relationship: str
    sql: Sql


@dataclass(frozen=True)
class PreAggregation:
    name: str
    measures: tuple[str, ...]
    dimensions: tuple[str, ...]
    time_dimension: str
    granularity: str


@dataclass(frozen=True)
class Cube:
    name: str
    sql: Sql | None = None
    sql_table: str | None = None
    title: str | None = None
    description: str | None = None
    joins: tuple[Join, ...] = ()
    measures: tuple[Measure, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    segments: tuple[Segment, ...] = ()
    pre_aggregations: tuple[PreAggregation, ...] = ()

    def member(self, name: str) -> Measure | Dimension | Segment | None:
        for group in (self.measures, self.dimensions, self.segments):
            for m in group:
                if m.name == name:
                    return m
        return None


@dataclass(frozen=True)
class ViewCube:
    join_path: str
    includes: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class View:
    name: str
    cubes: tuple[ViewCube, ...]
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CubeModel:
    cubes: tuple[Cube, ...]
    views: tuple[View, ...] = field(default=())

    def cube(self, name: str) -> Cube:
        for c in self.cubes:
            if c.name == name:
                return c
        raise KeyError(name)
