"""Small helpers shared by the tests: YAML that round-trips any text, and value comparison."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Every string double-quoted (PyYAML's plain/single-quoted styles let a raw NEL fold to a space), no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style='"'))


def dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return a == b
