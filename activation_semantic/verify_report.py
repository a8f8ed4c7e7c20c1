"""Verification results as text, JSON, or GitHub annotations."""

from __future__ import annotations

import json

from activation_semantic.harness import VerifyReport
from activation_semantic.report import Output, dumps, gh_annotation, step_summary


def _row(row: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def summary_line(report: VerifyReport) -> str:
    line = f"{report.count('pass')} passed, {report.count('fail') + report.count('error')} failed"
    if report.count("unsupported"):
        line += f", {report.count('unsupported')} unsupported"
    return line + f" (engine: {report.engine})"


def render_report(report: VerifyReport, output: Output) -> str:
    if output == "json":
        return dumps({
            "ok": report.ok,
            "engine": report.engine,
            "summary": {s: report.count(s) for s in ("pass", "fail", "error", "unsupported")},
            "results": [
                {"fixture": r.fixture, "line": r.line, "name": r.name, "status": r.status, "message": r.message,
                 "missing": r.missing, "unexpected": r.unexpected}
                for r in report.results
            ],
        })
    lines = []
    if output == "github":
        for r in report.results:
            if r.status in ("fail", "error"):
                detail = r.message or "; ".join(
                    [f"missing {_row(x)}" for x in r.missing] + [f"unexpected {_row(x)}" for x in r.unexpected])
                lines.append(gh_annotation("error", f"{r.name}: {detail}", r.fixture, r.line,
                                           title="activation metric mismatch"))
        failed = [r for r in report.results if r.status in ("fail", "error")]
        step_summary(f"### activation-semantic verify\n\n{summary_line(report)}\n"
                     + "".join(f"\n- `{r.fixture}:{r.line}` {r.name}: {r.status}" for r in failed))
        lines.append(summary_line(report))
        return "\n".join(lines)
    for r in report.results:
        where = f"{r.fixture}:{r.line}" if r.line else r.fixture
        lines.append(f"{r.status.upper():<11} {where} {r.name}")
        if r.message:
            lines.append(f"    {r.message}")
        for row in r.missing:
            lines.append(f"    expected, not found: {_row(row)}")
        for row in r.unexpected:
            lines.append(f"    found, not expected: {_row(row)}")
    lines.append(summary_line(report))
    return "\n".join(lines)
