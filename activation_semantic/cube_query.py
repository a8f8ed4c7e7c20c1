"""A Cube REST query, resolved against a model: members, filters, time dimensions, order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from activation_semantic.cube_model import Cube, CubeModel, Dimension, Measure, Segment

GRANULARITIES = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")


class QueryError(Exception):
    """The query names something the model does not have, or is malformed."""


@dataclass(frozen=True)
class Member:
    cube: Cube
    member: Measure | Dimension | Segment

    @property
    def key(self) -> str:
        return f"{self.cube.name}.{self.member.name}"


def resolve(model: CubeModel, name: Any, kinds: tuple[type, ...] = (Measure, Dimension, Segment)) -> Member:
    if not isinstance(name, str) or name.count(".") != 1:
        raise QueryError(f"{name!r} is not a member name (write Cube.member, e.g. Accounts.percentQualified)")
    cube_name, member_name = name.split(".")
    try:
        cube = model.cube(cube_name)
    except KeyError:
        known = ", ".join(c.name for c in model.cubes)
        raise QueryError(f"unknown cube '{cube_name}' in {name!r} (the model has {known})") from None
    member = cube.member(member_name)
    if member is None or not isinstance(member, kinds):
        kind = " or ".join(k.__name__.lower() for k in kinds)
        raise QueryError(f"unknown {kind} '{name}'")
    return Member(cube, member)


def output_key(member: str, granularity: str | None = None) -> str:
    return f"{member}.{granularity}" if granularity else member


def check_shape(query: Any) -> dict[str, Any]:
    if not isinstance(query, dict):
        raise QueryError("a query is a mapping with measures/dimensions/timeDimensions/filters/segments")
    allowed = {"measures", "dimensions", "timeDimensions", "filters", "segments", "order", "limit", "offset",
               "timezone", "ungrouped", "total"}
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise QueryError(f"unknown query key(s) {', '.join(unknown)}; Cube queries take {', '.join(sorted(allowed))}")
    for key in ("measures", "dimensions", "timeDimensions", "filters", "segments"):
        if key in query and not isinstance(query[key], list):
            raise QueryError(f"'{key}' must be a list")
    for td in query.get("timeDimensions", []):
        if not isinstance(td, dict) or "dimension" not in td:
            raise QueryError("each timeDimensions entry needs a 'dimension'")
        g = td.get("granularity")
        if g is not None and g not in GRANULARITIES:
            raise QueryError(f"granularity {g!r} is not one of {', '.join(GRANULARITIES)}")
    return query


def for_cube_compiler(query: dict[str, Any]) -> dict[str, Any]:
    """What Cube's API gateway does before planning: order as [{id, desc}], limit as rowLimit."""
    out = dict(query)
    order = out.get("order")
    if order:
        pairs = list(order.items()) if isinstance(order, dict) else [tuple(p) for p in order]
        out["order"] = [{"id": k, "desc": str(v).lower() == "desc"} for k, v in pairs]
    if "limit" in out:
        out["rowLimit"] = out.pop("limit")
    return out
