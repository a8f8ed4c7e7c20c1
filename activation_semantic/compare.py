"""Compare result rows with expected rows: numbers to 1e-9 relative, times as timestamps, NULL as null."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

REL_TOL = 1e-9


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.lower())
    if isinstance(value, (bool, int)) and value in (0, 1):
        return bool(value)
    return None


def same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        e, a = _as_bool(expected), _as_bool(actual)
        return e is not None and e == a
    if isinstance(actual, (datetime, date)) or isinstance(expected, (datetime, date)):
        e, a = _as_time(expected), _as_time(actual)
        return e is not None and e == a
    en, an = _as_number(expected), _as_number(actual)
    if en is not None and an is not None and not isinstance(expected, str):
        return math.isclose(en, an, rel_tol=REL_TOL, abs_tol=0.0) or (math.isnan(en) and math.isnan(an))
    if isinstance(expected, str) and isinstance(actual, (int, float, Decimal)):
        return an is not None and en is not None and math.isclose(en, an, rel_tol=REL_TOL)
    return str(expected) == str(actual)


def plain(value: Any) -> Any:
    """A JSON-friendly rendering of a result value."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds") if value.microsecond else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class Diff:
    missing: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected


def _row_matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(same(v, actual.get(k)) for k, v in expected.items())


def compare_rows(expected: list[dict[str, Any]], actual: list[dict[str, Any]], ordered: bool) -> Diff:
    diff = Diff()
    if ordered:
        for i in range(max(len(expected), len(actual))):
            e = expected[i] if i < len(expected) else None
            a = actual[i] if i < len(actual) else None
            if e is not None and a is not None and _row_matches(e, a):
                continue
            if e is not None:
                diff.missing.append(e)
            if a is not None:
                diff.unexpected.append({k: plain(v) for k, v in a.items()})
        return diff
    remaining = list(actual)
    for e in expected:
        for i, a in enumerate(remaining):
            if _row_matches(e, a):
                del remaining[i]
                break
        else:
            diff.missing.append({k: plain(v) for k, v in e.items()})
    diff.unexpected = [{k: plain(v) for k, v in a.items()} for a in remaining]
    return diff
