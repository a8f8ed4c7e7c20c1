"""Read a definition file into a validated `Definition`, or raise with every problem located."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from activation_semantic import definition as defn
from activation_semantic.checks import check, check_sets
from activation_semantic.errors import DefinitionInvalid, Finding, InputError
from activation_semantic.yaml_source import Loc, Positions, format_loc, load_yaml, parse_yaml

_SHAPES: dict[tuple[str, ...], type[defn.Model]] = {
    (): defn.Definition,
    ("accounts",): defn.AccountsSource,
    ("accounts", "dimensions"): defn.AccountDimension,
    ("milestone_logs",): defn.LogsSource,
    ("milestone_sets",): defn.MilestoneSet,
    ("milestone_sets", "milestones"): defn.Milestone,
}

_PATTERN_HELP = {
    defn.SET_NAME: "use lowercase letters, digits and _, starting with a letter (e.g. core_activation)",
    defn.MEMBER_NAME: "use letters, digits and _, starting with a letter (e.g. plan or userType)",
    defn.COLUMN: "use a plain column name: letters, digits and _, not starting with a digit",
    defn.TABLE: "use a table name such as accounts or analytics.accounts (letters, digits, _, $)",
}


@dataclass(frozen=True)
class LoadedDefinition:
    definition: defn.Definition
    source: str
    positions: Positions

    @property
    def sha256(self) -> str:
        return canonical_sha256(self.definition)


def canonical_json(d: defn.Definition) -> str:
    """Every field with defaults applied, sorted keys: what the definition means, not how it is spelled."""
    return json.dumps(d.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_sha256(d: defn.Definition) -> str:
    return hashlib.sha256(canonical_json(d).encode()).hexdigest()


def load_definition(path: Path, display: str | None = None) -> LoadedDefinition:
    name = display or str(path)
    data, positions = load_yaml(path, display=name)
    return validate_data(data, positions, name)


def load_definition_text(text: str, name: str) -> LoadedDefinition:
    data, positions = parse_yaml(text, name)
    return validate_data(data, positions, name)


def validate_data(data: Any, positions: Positions, name: str) -> LoadedDefinition:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise InputError(f"{name}:1:1: the top level is {kind}; a definition is a mapping (version:, name:, ...)")
    try:
        model = defn.Definition.model_validate(data)
    except ValidationError as exc:
        findings = list(_findings(exc, data, positions, name))
        findings += _partial_set_findings(data, positions, name, {f.path for f in findings})
        raise DefinitionInvalid(tuple(sorted(findings, key=_order))) from None
    problems = check(model)
    if problems:
        findings = []
        for loc, message in problems:
            line, col = positions.of(loc) or (None, None)
            findings.append(Finding(name, line, col, format_loc(loc), message))
        raise DefinitionInvalid(tuple(sorted(findings, key=_order)))
    return LoadedDefinition(model, name, positions)


def _partial_set_findings(data: dict[str, Any], positions: Positions, name: str, seen: set[str]) -> list[Finding]:
    """Set-level rules for the sets that are valid on their own, so one run reports everything."""
    raw = data.get("milestone_sets")
    if not isinstance(raw, list):
        return []
    valid = []
    for i, item in enumerate(raw):
        try:
            valid.append((i, defn.MilestoneSet.model_validate(item)))
        except ValidationError:
            continue
    out = []
    for loc, message in check_sets(valid):
        path = format_loc(loc)
        if path not in seen:
            line, col = positions.of(loc) or (None, None)
            out.append(Finding(name, line, col, path, message))
    return out


def _order(f: Finding) -> tuple[int, int, str]:
    return (f.line or 0, f.col or 0, f.path)


def _findings(exc: ValidationError, data: Any, positions: Positions, name: str) -> tuple[Finding, ...]:
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    out: dict[tuple[Any, ...], Finding] = {}
    for err, loc in zip(errors, locs, strict=True):
        if err["type"] == "too_short" and any(other[: len(loc)] == loc and other != loc for other in locs):
            continue  # the items themselves are wrong; their errors say more
        loc = _clean_loc(loc)
        is_key = err["type"] == "extra_forbidden"
        line, col = positions.of(loc, key=is_key) or (None, None)
        message = _message(err, loc, data)
        out.setdefault((loc, message), Finding(name, line, col, format_loc(loc), message))
    return tuple(sorted(out.values(), key=_order))


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union/validator tags (e.g. 'function-before[...]', 'int') from a location."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part.startswith(("function-", "literal[")) or part in ("int", "str")):
            continue
        out.append(part)
    return tuple(out)


def _shape(loc: Loc) -> tuple[str, ...]:
    return tuple(p for p in loc if isinstance(p, str))


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _message(err: dict[str, Any], loc: Loc, data: Any) -> str:
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        model = _SHAPES.get(_shape(loc[:-1]))
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(known)
        return f"unknown key '{loc[-1]}' ({hint})"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        if loc and loc[-1] == "cube":
            return f"{got!r} is not allowed: use letters, digits and _, starting with a letter (e.g. Accounts)"
        return f"{got!r} is not allowed: {_PATTERN_HELP.get(pattern, 'must match ' + pattern)}"
    if kind == "string_type":
        hint = "" if isinstance(got, (dict, list)) or got is None else "; put it in quotes to make it text"
        return f"must be text, got {_show(got)}{hint}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {_show(got)}"
    if kind == "bool_type":
        return f"must be true or false, got {_show(got)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be {err['ctx'].get('ge', err['ctx'].get('gt'))} or more, got {_show(got)}"
    if kind == "less_than_equal":
        return f"must be at most {err['ctx']['le']}, got {_show(got)}"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'|\b(\d+)\b", err["ctx"]["expected"])
        options = ", ".join(a or b for a, b in expected)
        return f"must be one of {options}; got {_show(got)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if _shape(loc) == ("milestone_sets", "milestones"):
            return f"must be a milestone value (text) or a mapping with value/key/title, got {_show(got)}"
        return f"must be a mapping, got {_show(got)}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, got {_show(got)}"
    if kind == "too_short":
        return "must have at least one entry"
    if kind == "too_long":
        return f"has too many entries (at most {err['ctx'].get('max_length')})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is too long (at most {err['ctx'].get('max_length')} characters)"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (date, datetime)):
        kind = "timestamp" if isinstance(value, datetime) else "date"
        return f"{value.isoformat(sep=' ') if isinstance(value, datetime) else value.isoformat()} (a {kind} to YAML)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
