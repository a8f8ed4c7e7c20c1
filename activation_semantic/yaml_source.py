"""Safe YAML reading that keeps every node's position, so errors can name file:line:col."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from activation_semantic.errors import InputError

MAX_DEFINITION_BYTES = 1024 * 1024

Loc = tuple[str | int, ...]


@dataclass
class Positions:
    """1-based (line, col) of each value node, and of each mapping key, by document path."""

    file: str
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def of(self, loc: Loc, *, key: bool = False) -> tuple[int, int] | None:
        """Position of the deepest known node on `loc` (a missing field points at its parent)."""
        if key and loc in self.keys:
            return self.keys[loc]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values:
                return self.values[loc[:end]]
        return None


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_DEPTH = 32

_CORE = "tag:yaml.org,2002:"
# The tags plain YAML resolves to; anything else (!!set, !!binary, !!python/..., <<, custom !tags) is refused.
_PLAIN_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (a definition never needs them, and they allow bombs), tags and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise _Refused(mark.line + 1, mark.column + 1, "YAML aliases (*name) are not allowed; write the value out")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            mark = event.start_mark
            raise _Refused(mark.line + 1, mark.column + 1, "YAML anchors (&name) are not allowed; write the value out")
        if self._depth >= MAX_DEPTH and isinstance(event, _OPEN):
            raise _too_deep(event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
# libyaml (PyYAML's C parser) when present: a near-limit file parses in a fraction of the pure-Python time.
_CLoader: Any = getattr(yaml, "CSafeLoader", None)


def _too_deep(event: yaml.Event) -> _Refused:
    mark = event.start_mark
    return _Refused(mark.line + 1, mark.column + 1, f"nested more than {MAX_DEPTH} levels deep; flatten the structure")


def _check_events(text: str) -> None:
    """What _Loader refuses while composing, checked on libyaml's event stream before anything is built."""
    try:
        _scan_events(text, _CLoader)
    except yaml.YAMLError as exc:
        if "nesting depth" not in str(exc):
            raise
        _scan_events(text, yaml.SafeLoader)  # newer libyaml stops deep nesting itself; locate it the same way


def _scan_events(text: str, loader: type) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(mark.line + 1, mark.column + 1, "YAML aliases (*name) are not allowed; write the value out")
        if getattr(event, "anchor", None):
            raise _Refused(mark.line + 1, mark.column + 1, "YAML anchors (&name) are not allowed; write the value out")
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(event)
        elif isinstance(event, _CLOSE):
            depth -= 1


def _human(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} bytes"


def read_text(path: Path, *, max_bytes: int, what: str) -> str:
    try:
        if not path.exists():
            raise InputError(f"{path}: no such file; check the path")
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a {what} file")
        size = path.stat().st_size
        if size <= max_bytes:  # read at most one byte more than the limit (a device or pipe has no size)
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
            size = max(size, len(data))
        if size > max_bytes:
            raise InputError(f"{path}: {size} bytes is over the {max_bytes} byte limit ({_human(max_bytes)}) "
                             f"for a {what} file")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(f"{path}: binary content (NUL bytes, and a UTF-16 byte-order mark); save the {what} "
                             "file as UTF-8")
        raise InputError(f"{path}: binary content (NUL bytes); a {what} file is UTF-8 YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8") from None
    return text.removeprefix("\ufeff")


def load_yaml(path: Path, *, max_bytes: int = MAX_DEFINITION_BYTES, what: str = "definition",
              display: str | None = None) -> tuple[Any, Positions]:
    """Parse one YAML document into plain Python values plus node positions."""
    name = display or str(path)
    text = read_text(path, max_bytes=max_bytes, what=what)
    return parse_yaml(text, name, what=what)


def parse_yaml(text: str, name: str, *, what: str = "definition") -> tuple[Any, Positions]:
    positions = Positions(name)
    loader = _Loader(text) if _CLoader is None else _CLoader(text)
    try:
        if _CLoader is not None:
            _check_events(text)
        node = loader.get_single_node()
        if node is None:
            raise InputError(f"{name}: the file is empty; a {what} is a YAML mapping")
        value = _construct(loader, node, (), positions)
    except _Refused as exc:
        raise InputError(f"{name}:{exc.line}:{exc.col}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            hint = ""
            line = text.split("\n")[mark.line] if mark.line < text.count("\n") + 1 else ""
            if "'\\t'" in problem or "tab" in problem or "\t" in line[: mark.column + 1]:
                hint = " (indent with spaces, not tabs)"
            raise InputError(f"{name}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}{hint}") from None
        raise InputError(f"{name}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: invalid YAML: {exc}") from None
    except RecursionError:
        raise InputError(f"{name}: YAML nested too deeply") from None
    finally:
        loader.dispose()
    return value, positions


def _check_tag(node: yaml.Node) -> None:
    if node.tag in _PLAIN_TAGS:
        return
    m = node.start_mark
    if node.tag == _CORE + "merge":
        raise _Refused(m.line + 1, m.column + 1, "YAML merge keys (<<) are not allowed; write the keys out")
    tag = node.tag.replace(_CORE, "!!")
    raise _Refused(m.line + 1, m.column + 1, f"YAML tag '{tag}' is not allowed; write a plain value")


def _scalar(loader: Any, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        m = node.start_mark
        why = "a number with too many digits" if "digits" in str(exc) else (str(exc).strip("'") or type(exc).__name__)
        raise _Refused(m.line + 1, m.column + 1, f"cannot read {node.value[:40]!r} as a YAML value ({why}); "
                                                 "put it in quotes to make it text") from None


def _construct(loader: Any, node: yaml.Node, loc: Loc, positions: Positions) -> Any:
    positions.values[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    _check_tag(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            m = key_node.start_mark
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(m.line + 1, m.column + 1, "mapping keys must be plain scalars")
            _check_tag(key_node)
            key = _scalar(loader, key_node)
            if not isinstance(key, str):
                raise _Refused(m.line + 1, m.column + 1, f"the key {key_node.value or 'null'!r} is not text to YAML "
                                                         f"(it reads as {_yaml_kind(key)}); put it in quotes")
            if key in out:
                m = key_node.start_mark
                raise _Refused(m.line + 1, m.column + 1, f"duplicate key '{key}'; keep only one")
            child = (*loc, key)
            positions.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(loader, value_node, child, positions)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*loc, i), positions) for i, item in enumerate(node.value)]
    return _scalar(loader, node)


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"
