"""Member names (camel or snake) and milestone keys derived from free-text values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Naming = Literal["camel", "snake"]


def derive_key(value: str, position: int) -> str:
    """Identifier for a milestone value: ASCII-folded, lowercase, runs of other characters → `_`."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    key = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if not key:
        return f"milestone_{position}"
    if key[0].isdigit():
        key = f"m_{key}"
    return key[:64]


def _camel_words(words: list[str]) -> str:
    parts = [p for w in words for p in w.split("_") if p]
    if not parts:
        return ""
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


@dataclass(frozen=True)
class Namer:
    """Joins words into member names; `words` are snake_case fragments such as `core` or `percent_qualified`."""

    naming: Naming

    def __call__(self, *words: str) -> str:
        if self.naming == "snake":
            return "_".join(p for w in words for p in w.split("_") if p)
        return _camel_words(list(words))


def collision_key(member: str) -> str:
    """Cube turns member names into snake_case SQL aliases, so names equal up to case and `_` clash."""
    return member.replace("_", "").lower()


def snake_case(name: str) -> str:
    """Cube's own camelCase → snake_case (aliases such as `accounts__percent_qualified`, file names)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
