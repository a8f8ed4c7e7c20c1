"""Findings and verification results as text, JSON, or GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Literal

from activation_semantic.errors import Finding

Output = Literal["text", "json", "github"]


def gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_escape_prop(text: str) -> str:
    return gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def gh_annotation(level: str, message: str, file: str | None = None, line: int | None = None,
                  col: int | None = None, title: str | None = None) -> str:
    props = []
    if file:
        props.append(f"file={gh_escape_prop(file)}")
    if line:
        props.append(f"line={line}")
    if col:
        props.append(f"col={col}")
    if title:
        props.append(f"title={gh_escape_prop(title)}")
    return f"::{level} {','.join(props)}::{gh_escape_data(message)}" if props else f"::{level}::{gh_escape_data(message)}"


def finding_dict(f: Finding) -> dict[str, Any]:
    return {"file": f.file, "line": f.line, "col": f.col, "path": f.path, "message": f.message}


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def step_summary(markdown: str) -> None:
    """Append to the GitHub job summary when running inside Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n")


def findings_text(findings: Iterable[Finding], output: Output, title: str) -> str:
    findings = list(findings)
    if output == "github":
        return "\n".join(gh_annotation("error", f.message if f.path == "" else f"{f.path}: {f.message}",
                                       f.file, f.line, f.col, title) for f in findings)
    return "\n".join(str(f) for f in findings)
