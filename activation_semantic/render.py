"""Render a definition to Cube model files: {relative path: text}, byte-identical for the same input."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Literal

import jinja2

from activation_semantic import escaping
from activation_semantic.header import make_header
from activation_semantic.loader import LoadedDefinition
from activation_semantic.model_build import build_model
from activation_semantic.naming import snake_case
from activation_semantic.templates_dir import templates_dir

Format = Literal["yaml", "js"]
EXTENSION = {"yaml": "yml", "js": "js"}


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
    env.filters.update(yq=escaping.yaml_cube_text, ysql=escaping.yaml_cube_string,
                       js=escaping.js_string, jsql=escaping.js_template)
    return env


def source_label(source: str, out_dir: Path | None) -> str:
    """The definition's path relative to the output folder, so the header does not depend on the cwd."""
    if out_dir is None:
        label = Path(source).name
    else:
        try:
            label = Path(os.path.relpath(Path(source).resolve(), out_dir.resolve())).as_posix()
        except ValueError:
            label = Path(source).name
    return re.sub(r"[{}%#\x00-\x1f]", "_", label)


def render(loaded: LoadedDefinition, fmt: Format = "yaml", out_dir: Path | None = None) -> dict[str, str]:
    d = loaded.definition
    model = build_model(d)
    env = _env()
    ext = EXTENSION[fmt]
    source = source_label(loaded.source, out_dir)
    files: dict[str, str] = {}
    for cube in model.cubes:
        body = env.get_template(f"{fmt}/cube.{ext}.j2").render(cube=cube, header="").lstrip("\n")
        files[f"cubes/{snake_case(cube.name)}.{ext}"] = body
    for view in model.views:
        body = env.get_template(f"{fmt}/view.{ext}.j2").render(view=view, header="").lstrip("\n")
        files[f"views/{snake_case(view.name)}.{ext}"] = body
    return {
        path: make_header(fmt, d.name, d.version, source, loaded.sha256, body) + "\n" + body
        for path, body in sorted(files.items())
    }
