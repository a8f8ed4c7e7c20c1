"""Escaping for each place a string lands: Cube YAML strings and member-reference text, JS literals."""

from __future__ import annotations

import json
import re

from activation_semantic.cube_model import Ref, Sql

_YAML_UNSAFE = re.compile("[^\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar holding `text` exactly (line breaks and controls as escapes)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"')

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")

    return '"' + _YAML_UNSAFE.sub(esc, out) + '"'


def cube_text(text: str) -> str:
    """Literal text inside a Cube YAML template string: braces would otherwise be member references."""
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def yaml_sql(parts: Sql) -> str:
    return "".join("{" + str(p) + "}" if isinstance(p, Ref) else cube_text(p) for p in parts)


def yaml_block_safe(text: str) -> bool:
    """A literal block scalar keeps text verbatim only if it is printable and every line has content."""
    if _YAML_UNSAFE.search(text.replace("\n", "").replace("\t", "")):
        return False
    return all(line.strip() and line == line.rstrip() for line in text.split("\n")) and not text[:1].isspace()


def js_template(parts: Sql) -> str:
    """A JS template literal: `${ref}` for references, everything else escaped to stay literal."""
    out = []
    for p in parts:
        if isinstance(p, Ref):
            out.append("${" + str(p) + "}")
        else:
            out.append(p.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${"))
    return "`" + "".join(out) + "`"


def js_string(text: str) -> str:
    """A JS string literal (JSON is valid JS, with U+2028/9 escaped by ensure_ascii)."""
    return json.dumps(text, ensure_ascii=True)
