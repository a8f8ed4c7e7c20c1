"""Render a definition to Cube model files: {relative path: text}, byte-identical for the same input."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Literal

import jinja2

from activation_semantic import escaping
from activation_semantic.cube_model import Sql
from activation_semantic.header import make_header
from activation_semantic.loader import LoadedDefinition
from activation_semantic.model_build import build_model
from activation_semantic.templates_dir import templates_dir

Format = Literal["yaml", "js"]
EXTENSION = {"yaml": "yml", "js": "js"}


def _ysql(parts: Sql, indent: int) -> str:
    text = escaping.yaml_sql(parts)
    if "\n" in text and escaping.yaml_block_safe(text):
        pad = " " * indent
        return "|-\n" + "\n".join(pad + line for line in text.split("\n"))
    return escaping.yaml_quote(text)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters.update(yq=escaping.yaml_quote, ysql=_ysql, js=escaping.js_string, jsql=escaping.js_template)
    return env


def file_stem(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def source_label(source: str, out_dir: Path | None) -> str:
    """The definition's path relative to the output folder, so the header does not depend on the cwd."""
    if out_dir is None:
        return Path(source).name
    try:
        return Path(os.path.relpath(Path(source).resolve(), out_dir.resolve())).as_posix()
    except ValueError:
        return Path(source).name


def render(loaded: LoadedDefinition, fmt: Format = "yaml", out_dir: Path | None = None) -> dict[str, str]:
    d = loaded.definition
    model = build_model(d)
    env = _env()
    ext = EXTENSION[fmt]
    source = source_label(loaded.source, out_dir)
    files: dict[str, str] = {}
    for cube in model.cubes:
        body = env.get_template(f"{fmt}/cube.{ext}.j2").render(cube=cube, header="").lstrip("\n")
        files[f"cubes/{file_stem(cube.name)}.{ext}"] = body
    for view in model.views:
        body = env.get_template(f"{fmt}/view.{ext}.j2").render(view=view, header="").lstrip("\n")
        files[f"views/{file_stem(view.name)}.{ext}"] = body
    return {
        path: make_header(fmt, d.name, d.version, source, loaded.sha256, body) + "\n" + body
        for path, body in sorted(files.items())
    }
