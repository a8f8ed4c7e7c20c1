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


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: a definition never needs them and they allow bombs."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise _Refused(mark.line + 1, mark.column + 1, "YAML aliases (*name) are not allowed; write the value out")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            mark = event.start_mark
            raise _Refused(mark.line + 1, mark.column + 1, "YAML anchors (&name) are not allowed; write the value out")
        return super().compose_node(parent, index)


class _Refused(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def read_text(path: Path, *, max_bytes: int, what: str) -> str:
    try:
        if not path.exists():
            raise InputError(f"{path}: no such file; check the path")
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a {what} file")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: {size} bytes is over the {max_bytes} byte limit for a {what} file")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
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
    loader = _Loader(text)
    try:
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
            if "'\\t'" in problem or "tab" in problem:
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


def _construct(loader: _Loader, node: yaml.Node, loc: Loc, positions: Positions) -> Any:
    positions.values[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                m = key_node.start_mark
                raise _Refused(m.line + 1, m.column + 1, "mapping keys must be plain scalars")
            key = loader.construct_object(key_node)
            if isinstance(key, (list, dict)):
                m = key_node.start_mark
                raise _Refused(m.line + 1, m.column + 1, "mapping keys must be plain scalars")
            if key in out:
                m = key_node.start_mark
                raise _Refused(m.line + 1, m.column + 1, f"duplicate key '{key}'; keep only one")
            child = (*loc, key)
            positions.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(loader, value_node, child, positions)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*loc, i), positions) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
