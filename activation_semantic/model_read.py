"""Read generated Cube model files (YAML or JS) back into a CubeModel, so engines evaluate the files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

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
    sql,
)
from activation_semantic.errors import InputError

_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "{": "{", "}": "}", "0": "\0",
            "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_HEX = {"x": 2, "u": 4, "U": 8}
_JS_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def parse_cube_template(text: str) -> Sql:
    """Cube YAML string as Cube reads it (a Python f-string): `{a.b}` references, backslash escapes."""
    parts: list[str | Ref] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _HEX:
                width = _HEX[nxt]
                buf.append(chr(int(text[i + 2 : i + 2 + width], 16)))
                i += 2 + width
                continue
            if nxt in _ESCAPES:
                buf.append(_ESCAPES[nxt])
                i += 2
                continue
        if c == "\r":  # Cube reads a raw CR (or CRLF) in a YAML string as a line feed
            buf.append("\n")
            i += 2 if text.startswith("\r\n", i) else 1
            continue
        if c == "{":
            end = text.find("}", i)
            inner = text[i + 1 : end] if end > 0 else ""
            if end > 0 and _PATH.fullmatch(inner):
                parts.extend(["".join(buf), Ref(tuple(inner.split(".")))])
                buf = []
                i = end + 1
                continue
        buf.append(c)
        i += 1
    parts.append("".join(buf))
    return sql(*parts)


class _Js:
    """A reader for the JS subset the templates emit: cube()/view() calls over object literals."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name, self.i = text, name, 0

    def fail(self, what: str) -> InputError:
        line = self.text.count("\n", 0, self.i) + 1
        return InputError(f"{self.name}:{line}: cannot read generated JS: {what}")

    def skip(self) -> None:
        while self.i < len(self.text):
            if self.text.startswith("//", self.i):
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end + 1
            elif self.text[self.i] in " \t\r\n;":
                self.i += 1
            else:
                return

    def expect(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.i):
            raise self.fail(f"expected {token!r}")
        self.i += len(token)

    def calls(self) -> list[tuple[str, str, Any]]:
        out = []
        while True:
            self.skip()
            if self.i >= len(self.text):
                return out
            m = re.compile(r"(cube|view)\(").match(self.text, self.i)
            if not m:
                raise self.fail("expected cube( or view(")
            self.i = m.end()
            name = self.value()
            self.expect(",")
            body = self.value()
            self.expect(")")
            out.append((m.group(1), name, body))

    def value(self) -> Any:
        self.skip()
        c = self.text[self.i : self.i + 1]
        if c == "{":
            self.i += 1
            obj: dict[str, Any] = {}
            while True:
                self.skip()
                if self.text.startswith("}", self.i):
                    self.i += 1
                    return obj
                m = _PATH.match(self.text, self.i)
                if not m:
                    raise self.fail("expected a key")
                self.i = m.end()
                self.expect(":")
                obj[m.group()] = self.value()
                self.skip()
                if self.text.startswith(",", self.i):
                    self.i += 1
        if c == "[":
            self.i += 1
            arr = []
            while True:
                self.skip()
                if self.text.startswith("]", self.i):
                    self.i += 1
                    return arr
                arr.append(self.value())
                self.skip()
                if self.text.startswith(",", self.i):
                    self.i += 1
        if c == '"':
            decoder = json.JSONDecoder()
            val, end = decoder.raw_decode(self.text, self.i)
            self.i = end
            return val
        if c == "`":
            return self.template()
        m = re.compile(r"true|false|-?\d+(?:\.\d+)?|" + _PATH.pattern).match(self.text, self.i)
        if not m:
            raise self.fail("unexpected character")
        self.i = m.end()
        word = m.group()
        if word in ("true", "false"):
            return word == "true"
        if re.fullmatch(r"-?\d+(?:\.\d+)?", word):
            return float(word) if "." in word else int(word)
        return word

    def escape(self) -> str:
        """One escape sequence of a JS template literal, starting at the backslash."""
        nxt = self.text[self.i + 1 : self.i + 2]
        if not nxt:
            raise self.fail("unterminated template literal")
        self.i += 2
        if nxt in _JS_ESCAPES:
            return _JS_ESCAPES[nxt]
        if nxt in "\r\n\u2028\u2029":  # line continuation
            if nxt == "\r" and self.text.startswith("\n", self.i):
                self.i += 1
            return ""
        if nxt in "xu":
            if nxt == "u" and self.text.startswith("{", self.i):
                end = self.text.find("}", self.i)
                digits, self.i = self.text[self.i + 1 : end], end + 1
            else:
                width = 2 if nxt == "x" else 4
                digits, self.i = self.text[self.i : self.i + width], self.i + width
            try:
                return chr(int(digits, 16))
            except ValueError:
                raise self.fail(f"bad escape \\{nxt}{digits}") from None
        return nxt

    def template(self) -> Sql:
        self.i += 1
        parts: list[str | Ref] = []
        buf: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise self.fail("unterminated template literal")
            c = self.text[self.i]
            if c == "\\":
                buf.append(self.escape())
            elif c == "\r":  # JS reads a raw CR or CRLF in a template literal as a line feed
                buf.append("\n")
                self.i += 2 if self.text.startswith("\r\n", self.i) else 1
            elif c == "`":
                self.i += 1
                parts.append("".join(buf))
                return sql(*parts)
            elif self.text.startswith("${", self.i):
                end = self.text.index("}", self.i)
                parts.extend(["".join(buf), Ref(tuple(self.text[self.i + 2 : end].split(".")))])
                buf = []
                self.i = end + 1
            else:
                buf.append(c)
                self.i += 1


def _as_sql(value: Any) -> Sql:
    if isinstance(value, tuple):
        return value
    return parse_cube_template(str(value))


def _named(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, dict):
        return [{"name": k, **v} for k, v in items.items()]
    return list(items or [])


def _member_name(ref: str) -> str:
    return ref.split(".")[-1]


def _text(value: Any, yaml_strings: bool) -> Any:
    if value is None or not yaml_strings:
        return value
    return "".join(p if isinstance(p, str) else "{" + str(p) + "}" for p in parse_cube_template(str(value)))


def _cube(raw: dict[str, Any], yaml_strings: bool = False) -> Cube:
    t = lambda v: _text(v, yaml_strings)  # noqa: E731
    return Cube(
        name=raw["name"],
        sql=_as_sql(raw["sql"]) if "sql" in raw else None,
        sql_table=raw.get("sql_table"),
        title=t(raw.get("title")),
        description=t(raw.get("description")),
        joins=tuple(Join(j["name"], j["relationship"], _as_sql(j["sql"])) for j in _named(raw.get("joins"))),
        measures=tuple(
            Measure(m["name"], m["type"], _as_sql(m["sql"]) if "sql" in m else None,
                    tuple(_as_sql(f["sql"]) for f in m.get("filters", [])), t(m.get("title")), t(m.get("description")),
                    m.get("format"))
            for m in _named(raw.get("measures"))
        ),
        dimensions=tuple(
            Dimension(x["name"], x["type"], _as_sql(x["sql"]), bool(x.get("primary_key")), x.get("public"),
                      t(x.get("title")), t(x.get("description")))
            for x in _named(raw.get("dimensions"))
        ),
        segments=tuple(Segment(s["name"], _as_sql(s["sql"]), t(s.get("title")), t(s.get("description")))
                       for s in _named(raw.get("segments"))),
        pre_aggregations=tuple(
            PreAggregation(p["name"], tuple(_member_name(x) for x in p.get("measures", [])),
                           tuple(_member_name(x) for x in p.get("dimensions", [])),
                           _member_name(p["time_dimension"]), p["granularity"])
            for p in _named(raw.get("pre_aggregations"))
        ),
    )


def _view(raw: dict[str, Any], yaml_strings: bool = False) -> View:
    return View(raw["name"], tuple(ViewCube(c["join_path"], tuple(c.get("includes", []))) for c in raw["cubes"]),
                _text(raw.get("title"), yaml_strings), _text(raw.get("description"), yaml_strings))


def read_model(model_dir: Path) -> CubeModel:
    if not model_dir.is_dir():
        raise InputError(f"{model_dir}: no such model folder; run 'activation-semantic generate' first")
    cubes: list[Cube] = []
    views: list[View] = []
    files = sorted(p for p in model_dir.rglob("*") if p.suffix in (".yml", ".yaml", ".js") and p.is_file())
    if not files:
        raise InputError(f"{model_dir}: no .yml or .js model files found")
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".js":
                for kind, name, body in _Js(text, str(path)).calls():
                    (cubes if kind == "cube" else views).append(
                        _cube({"name": name, **body}) if kind == "cube" else _view({"name": name, **body}))
            else:
                doc = yaml.safe_load(text) or {}
                cubes.extend(_cube(c, yaml_strings=True) for c in doc.get("cubes", []))
                views.extend(_view(v, yaml_strings=True) for v in doc.get("views", []))
        except (KeyError, TypeError, yaml.YAMLError, IndexError, ValueError) as exc:
            raise InputError(f"{path}: not a Cube model this tool can read ({type(exc).__name__}: {exc})") from None
    return CubeModel(tuple(cubes), tuple(views))
