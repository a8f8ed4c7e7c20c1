"""Escaping for each place a string lands in a generated file.

Cube reads every YAML string (sql, title, description) as a Python f-string: `{x}` is a member
reference, a backslash starts an escape, and a raw carriage return comes out as a line feed. Its YAML
files are also Jinja templates, so the raw file text must never contain `{{`, `{%` or `{#` coming from
a value. JS models take `sql` as a template literal (backslash, backtick and `${` are code, and a raw
carriage return is read as a line feed) and titles as plain string literals.
"""

from __future__ import annotations

import json
import re

from activation_semantic.cube_model import Ref, Sql

# Everything but printable text is escaped in YAML; U+2028/U+2029 too, since YAML 1.1 readers (PyYAML)
# take them for line breaks.
_YAML_UNSAFE = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def cube_text(text: str) -> str:
    """Literal text as Cube's f-string reader must see it: no escapes, no references, CR kept as CR."""
    return text.replace("\\", "\\x5c").replace("{", "\\{").replace("}", "\\}").replace("\r", "\\x0d")


def _yaml_escape(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")

    return _YAML_UNSAFE.sub(esc, out)


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar holding `text` exactly (for names and paths Cube does not interpret)."""
    return '"' + _yaml_escape(text) + '"'


def _block_safe(text: str) -> bool:
    """A literal block scalar keeps text verbatim only if it is printable and every line has content."""
    if _YAML_UNSAFE.search(text.replace("\n", "").replace("\t", "")):
        return False
    return all(line.strip() and line == line.rstrip() for line in text.split("\n")) and not text[:1].isspace()


def yaml_cube_string(parts: Sql, indent: int | None = None) -> str:
    """A YAML scalar Cube reads back as `parts`: references stay references, text stays literal.

    Multi-line SQL without literal braces is written as a readable block; anything else as a
    double-quoted scalar whose literal braces are `\\x7B`/`\\x7D` escapes, so no raw brace from a
    value reaches the file (and Jinja).
    """
    literal_braces = any(isinstance(p, str) and ("{" in p or "}" in p) for p in parts)
    cube_level = "".join("{" + str(p) + "}" if isinstance(p, Ref) else cube_text(p) for p in parts)
    if indent is not None and "\n" in cube_level and not literal_braces and _block_safe(cube_level):
        pad = " " * indent
        return "|-\n" + "\n".join(pad + line for line in cube_level.split("\n"))
    out = []
    for p in parts:
        if isinstance(p, Ref):
            out.append("{" + str(p) + "}")
        else:
            out.append(_yaml_escape(cube_text(p)).replace("{", "\\x7B").replace("}", "\\x7D"))
    return '"' + "".join(out) + '"'


def yaml_cube_text(text: str) -> str:
    """A title or description in Cube YAML (Cube interprets these too)."""
    return yaml_cube_string((text,))


def js_template(parts: Sql) -> str:
    """A JS template literal: `${ref}` for references, everything else escaped to stay literal."""
    out = []
    for p in parts:
        if isinstance(p, Ref):
            out.append("${" + str(p) + "}")
        else:
            out.append(p.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${").replace("\r", "\\r"))
    return "`" + "".join(out) + "`"


def js_string(text: str) -> str:
    """A JS string literal (JSON is valid JS; ensure_ascii escapes U+2028/9)."""
    return json.dumps(text, ensure_ascii=True)
