"""Command line: parse flags, call the library, turn ActivationError into a message and an exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from activation_semantic import __version__
from activation_semantic.errors import ActivationError, DefinitionInvalid, Exit, Finding
from activation_semantic.report import dumps, finding_dict, findings_text, gh_annotation, step_summary

app = typer.Typer(
    name="activation-semantic",
    help="Activation milestones in versioned YAML, compiled to a verified Cube data model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OutputOpt = Annotated[str, typer.Option("--output", "-o", help="text, json or github (workflow annotations).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Model file format: yaml or js.")]


def _choice(value: str, options: tuple[str, ...], flag: str) -> str:
    if value not in options:
        _fail(f"{flag} must be one of {', '.join(options)}, not {value!r}", Exit.ERROR)
    return value


def _fail(message: str, code: Exit) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


def _error(exc: ActivationError, output: str, title: str) -> NoReturn:
    if output == "json":
        typer.echo(dumps({"ok": False, "error": exc.message, "findings": [finding_dict(f) for f in exc.findings],
                          "exit_code": int(exc.exit_code)}))
    elif output == "github":
        if exc.findings:
            typer.echo(findings_text(exc.findings, "github", title))
        else:
            typer.echo(gh_annotation("error", exc.message, title=title))
        typer.echo(f"error: {exc.message}", err=True)
    else:
        typer.echo(exc.message if isinstance(exc, DefinitionInvalid) else f"error: {exc.message}", err=True)
    raise typer.Exit(int(exc.exit_code))


@app.command()
def validate(
    definitions: Annotated[list[Path], typer.Argument(help="Definition files (activation.yml).")],
    output: OutputOpt = "text",
) -> None:
    """Check definitions; report every problem at once with file:line:col."""
    from activation_semantic.loader import load_definition

    output = _choice(output, ("text", "json", "github"), "--output")
    findings: list[Finding] = []
    errors: list[str] = []
    code = Exit.OK
    for path in definitions:
        try:
            load_definition(path)
        except DefinitionInvalid as exc:
            findings.extend(exc.findings)
            code = max(code, Exit.FINDINGS)
        except ActivationError as exc:
            errors.append(exc.message)
            code = max(code, exc.exit_code)
    if output == "json":
        typer.echo(dumps({"ok": code == Exit.OK, "checked": [str(p) for p in definitions],
                          "findings": [finding_dict(f) for f in findings], "errors": errors,
                          "exit_code": int(code)}))
    elif output == "github":
        lines = [findings_text(findings, "github", "activation-semantic validate")] if findings else []
        lines += [gh_annotation("error", e, title="activation-semantic validate") for e in errors]
        if lines:
            typer.echo("\n".join(lines))
        if findings or errors:
            step_summary("### activation-semantic validate\n\n" + "\n".join(f"- `{f}`" for f in findings)
                         + "".join(f"\n- {e}" for e in errors))
    else:
        for f in findings:
            typer.echo(str(f), err=True)
        for e in errors:
            typer.echo(f"error: {e}", err=True)
        if code == Exit.OK:
            typer.echo(f"ok: {len(definitions)} definition(s) valid")
    raise typer.Exit(int(code))


@app.command()
def generate(
    definition: Annotated[Path, typer.Argument(help="Definition file.")],
    out: Annotated[Path, typer.Option("--out", help="Cube model folder (gets cubes/ and views/).")],
    fmt: FormatOpt = "yaml",
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the folder is out of date.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite hand-edited or foreign files.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="With --check: show unified diffs.")] = False,
    output: OutputOpt = "text",
) -> None:
    """Write the Cube model for a definition (atomically), or --check that it is up to date."""
    from activation_semantic.loader import load_definition
    from activation_semantic.writer import check_model, write_model

    output = _choice(output, ("text", "json", "github"), "--output")
    fmt = _choice(fmt, ("yaml", "js"), "--format")
    try:
        loaded = load_definition(definition)
        if check:
            states = check_model(loaded, out, fmt)  # type: ignore[arg-type]
            _report_check(states, out, output, verbose, str(definition))
            raise typer.Exit(int(Exit.FINDINGS if states else Exit.OK))
        result = write_model(loaded, out, fmt, force=force)  # type: ignore[arg-type]
    except ActivationError as exc:
        _error(exc, output, "activation-semantic generate")
    if output == "json":
        typer.echo(dumps({"ok": True, "out": str(out), "written": list(result.written),
                          "removed": list(result.removed), "unchanged": list(result.unchanged)}))
    else:
        for rel in result.written:
            typer.echo(f"wrote {out / rel}")
        for rel in result.removed:
            typer.echo(f"removed {out / rel}")
        typer.echo(f"{len(result.written)} written, {len(result.removed)} removed, "
                   f"{len(result.unchanged)} unchanged in {out}")


def _report_check(states: list, out: Path, output: str, verbose: bool, definition: str) -> None:  # type: ignore[type-arg]
    if output == "json":
        typer.echo(dumps({"ok": not states, "out": str(out),
                          "files": [{"path": s.path, "problem": s.problem, "diff": s.diff} for s in states]}))
        return
    if output == "github":
        for s in states:
            typer.echo(gh_annotation("error", f"{out / s.path}: {s.describe()}; run activation-semantic generate "
                                     f"{definition} --out {out}", str(out / s.path), title="generated model drift"))
        if states:
            step_summary("### Cube model drift\n\n" + "\n".join(f"- `{out / s.path}`: {s.problem}" for s in states))
        return
    for s in states:
        typer.echo(f"{out / s.path}: {s.describe()}")
        if verbose and s.diff:
            typer.echo(s.diff.rstrip("\n"))
    if states:
        typer.echo(f"{len(states)} file(s) out of date; run: activation-semantic generate {definition} --out {out}")
    else:
        typer.echo(f"ok: {out} is up to date")


@app.command()
def verify(
    definition: Annotated[Path, typer.Argument(help="Definition file.")],
    fixtures: Annotated[list[Path], typer.Argument(help="Fixture files (tables + queries + expected rows).")],
    engine: Annotated[str, typer.Option("--engine", help="builtin, or cube (Cube's compiler via Node).")] = "builtin",
    model: Annotated[Path | None, typer.Option("--model", help="Evaluate this generated folder instead.")] = None,
    fmt: FormatOpt = "yaml",
    output: OutputOpt = "text",
    database: Annotated[str | None, typer.Option(
        "--database", help="Run on this PostgreSQL (postgres://...) instead of DuckDB; dialect: postgres only. "
                           "Fixture tables go into a temporary schema, dropped after.")] = None,
) -> None:
    """Run fixture queries against the generated model in DuckDB (or PostgreSQL) and compare with expectations."""
    from activation_semantic.harness import verify as run_verify
    from activation_semantic.loader import load_definition

    output = _choice(output, ("text", "json", "github"), "--output")
    engine = _choice(engine, ("builtin", "cube"), "--engine")
    fmt = _choice(fmt, ("yaml", "js"), "--format")
    try:
        loaded = load_definition(definition)
        report = run_verify(loaded, fixtures, engine=engine, model_dir=model, fmt=fmt,  # type: ignore[arg-type]
                            database=database)
    except ActivationError as exc:
        _error(exc, output, "activation-semantic verify")
    from activation_semantic.verify_report import render_report

    typer.echo(render_report(report, output))  # type: ignore[arg-type]
    raise typer.Exit(int(Exit.OK if report.ok else Exit.FINDINGS))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the definition format (for editors and yaml-language-server)."""
    from activation_semantic.json_schema import definition_schema

    typer.echo(dumps(definition_schema()))


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the example in.")]) -> None:
    """Write a ready example: activation.yml, a fixture with data, and a README snippet."""
    from activation_semantic.scaffold import write_example

    try:
        written = write_example(directory)
    except ActivationError as exc:
        _error(exc, "text", "activation-semantic init")
    for p in written:
        typer.echo(f"wrote {p}")
    typer.echo(f"next: activation-semantic generate {directory / 'activation.yml'} --out {directory / 'model'}")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the example and its model.")] = Path("activation-demo"),
) -> None:
    """The whole job on the bundled example: write it, generate the Cube model, verify it in DuckDB."""
    from activation_semantic.harness import verify as run_verify
    from activation_semantic.loader import load_definition
    from activation_semantic.scaffold import write_example
    from activation_semantic.verify_report import render_report
    from activation_semantic.writer import write_model

    try:
        write_example(directory, overwrite=True)
        loaded = load_definition(directory / "activation.yml")
        result = write_model(loaded, directory / "model")
        report = run_verify(loaded, [directory / "fixture.yml"], model_dir=directory / "model")
    except ActivationError as exc:
        _error(exc, "text", "activation-semantic demo")
    typer.echo(f"generated {len(result.written) + len(result.unchanged)} model files in {directory / 'model'}")
    typer.echo(render_report(report, "text"))
    raise typer.Exit(int(Exit.OK if report.ok else Exit.FINDINGS))


@app.command("cube-setup")
def cube_setup() -> None:
    """Install Cube's schema compiler (npm) for `verify --engine cube`."""
    from activation_semantic import cube_engine

    try:
        target = cube_engine.setup(sys.stdout)
    except ActivationError as exc:
        _error(exc, "text", "activation-semantic cube-setup")
    typer.echo(f"Cube engine ready in {target}")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="Old definition file; with --against, the definition to compare.")],
    new: Annotated[Path | None, typer.Argument(help="New definition file (omit with --against).")] = None,
    against: Annotated[str | None, typer.Option("--against", help="Git ref holding the old side (git show).")] = None,
    fixture: Annotated[Path | None, typer.Option("--fixture", help="Show the metrics under both versions.")] = None,
    output: OutputOpt = "text",
) -> None:
    """Semantic changes between two versions of a definition; exit 1 on a breaking change without a version bump."""
    from activation_semantic.diff import render_diff, run_diff

    output = _choice(output, ("text", "json", "github"), "--output")
    if (new is None) == (against is None):
        _fail("give exactly one of NEW (a second file) or --against GIT_REF", Exit.ERROR)
    try:
        result = run_diff(old, new, against, fixture)
    except ActivationError as exc:
        _error(exc, output, "activation-semantic diff")
    typer.echo(render_diff(result, output))  # type: ignore[arg-type]
    raise typer.Exit(result.exit_code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"activation-semantic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Activation milestones in versioned YAML, compiled to a verified Cube data model."""


def main() -> None:
    try:
        app()
    except ActivationError as exc:  # a library error that escaped a command: still no traceback
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(int(exc.exit_code))
