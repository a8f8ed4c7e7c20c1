"""Driver for the Cube engine: Cube's own compiler, run through Node.

The Node side lives in ``activation_semantic/cube_node`` (``package.json``,
``package-lock.json`` pinning ``@cubejs-backend/schema-compiler`` and
``@cubejs-backend/duckdb-driver`` 1.7.43, and ``render.js``). ``setup`` installs
those packages once into :func:`node_dir`; ``render`` compiles a model folder
and renders the SQL of Cube REST queries in one ``node render.js`` process.

Placeholders in the rendered SQL (``params`` holds the values, in order):

* ``duckdb``, ``snowflake``: ``?`` (positional, in order of appearance);
* ``postgres``: ``$1``, ``$2``, ... (numbered);
* ``bigquery``: ``?``.

DuckDB's Python API takes ``?`` placeholders with a parameter list directly:
``con.execute(result["sql"], result["params"])``.

Cube's DuckDB SQL converts time dimensions with
``timezone('UTC', col::timestamptz)``: run it on a connection whose ``TimeZone``
is ``UTC`` (``SET TimeZone = 'UTC'``) or naive timestamps shift by the local
offset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from activation_semantic.errors import ActivationError, Exit, Finding

CUBE_VERSION = "1.7.43"
ENV_DIR = "ACTIVATION_SEMANTIC_CUBE_DIR"
TIMEOUT_SECONDS = 120
SETUP_TIMEOUT_SECONDS = 900
MIN_NODE_MAJOR = 20
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery")

_PACKAGED_FILES = ("package.json", "package-lock.json", "render.js")
_REQUIRED_MODULES = (
    "@cubejs-backend/schema-compiler/package.json",
    "@cubejs-backend/duckdb-driver/package.json",
)
_STAMP = ".activation-semantic-lock.sha256"

NOT_INSTALLED = "Cube engine not installed: run 'activation-semantic cube-setup' (needs node and npm)"
NODE_MISSING = "node not found: install Node.js >= 20 (with npm), then run 'activation-semantic cube-setup'"
NPM_MISSING = "npm not found: install Node.js >= 20 with npm, then run 'activation-semantic cube-setup'"


class CubeEngineUnavailable(ActivationError):
    """Node, npm or the Cube packages are missing."""

    exit_code = Exit.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)


class CubeEngineFailed(ActivationError):
    """The Node process ran but did not answer with a JSON document."""

    exit_code = Exit.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)


class CubeCompileFailed(ActivationError):
    """Cube's compiler rejected the model; the message names the file and cube Cube blames."""

    exit_code = Exit.FINDINGS


def package_dir() -> Path:
    """The packaged Node sources (package.json, lock, render.js)."""
    return Path(__file__).resolve().parent / "cube_node"


def node_dir() -> Path:
    """Where the Node packages are installed."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "activation-semantic" / f"cube-node-{CUBE_VERSION}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _node_executable() -> str:
    node = shutil.which("node")
    if not node:
        raise CubeEngineUnavailable(NODE_MISSING)
    return node


def _check_node_version(node: str) -> None:
    try:
        proc = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
        major = int(proc.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return
    if major < MIN_NODE_MAJOR:
        raise CubeEngineUnavailable(
            f"node {proc.stdout.strip()} is too old: Cube {CUBE_VERSION} needs Node.js >= {MIN_NODE_MAJOR}"
        )


def is_installed(target: Path | None = None) -> bool:
    """True when node_dir holds node_modules installed from the packaged lock."""
    target = target or node_dir()
    stamp = target / _STAMP
    try:
        if stamp.read_text().strip() != _sha256(package_dir() / "package-lock.json"):
            return False
    except OSError:
        return False
    return all((target / "node_modules" / m).is_file() for m in _REQUIRED_MODULES)


def _sync_file(name: str, target: Path) -> bool:
    """Copy a packaged file into target when it differs; True when copied."""
    src = package_dir() / name
    dst = target / name
    data = src.read_bytes()
    try:
        if dst.read_bytes() == data:
            return False
    except OSError:
        pass
    tmp = dst.with_name(f".{name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, dst)
    return True


def setup(stream: IO[str] | None = None) -> Path:
    """Install the pinned Cube packages into node_dir(); idempotent.

    Runs ``npm ci --ignore-scripts``: the only install scripts in the tree are
    ``@cubejs-backend/native``'s (downloads a Rust binary from GitHub, which
    fails offline and is not needed here) and es5-ext's (prints a message).
    DuckDB's Node bindings come as a platform package from the npm registry
    and need no script either.
    """
    out = stream if stream is not None else sys.stderr
    _check_node_version(_node_executable())
    target = node_dir()
    target.mkdir(parents=True, exist_ok=True)
    with _install_lock(target):
        return _setup_locked(target, out)


@contextlib.contextmanager
def _install_lock(target: Path) -> Iterator[None]:
    """Serialise concurrent setups (e.g. parallel test workers) on one node_dir."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(target / ".install.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _setup_locked(target: Path, out: IO[str]) -> Path:
    for name in _PACKAGED_FILES:
        _sync_file(name, target)
    if is_installed(target):
        print(f"Cube engine {CUBE_VERSION} already installed in {target}", file=out)
        return target
    npm = shutil.which("npm")
    if not npm:
        raise CubeEngineUnavailable(NPM_MISSING)
    (target / _STAMP).unlink(missing_ok=True)
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    print(f"Installing Cube {CUBE_VERSION} packages into {target} ({' '.join(cmd[1:])}) ...", file=out)
    out.flush()
    try:
        proc = subprocess.run(
            cmd,
            cwd=target,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CubeEngineUnavailable(f"npm ci in {target} did not finish within {SETUP_TIMEOUT_SECONDS}s") from exc
    if proc.stdout:
        out.write(proc.stdout)
    if proc.returncode != 0:
        raise CubeEngineUnavailable(f"npm ci failed in {target} (exit {proc.returncode}): {proc.stdout.strip()[-2000:]}")
    (target / _STAMP).write_text(_sha256(package_dir() / "package-lock.json") + "\n")
    if not is_installed(target):
        raise CubeEngineUnavailable(f"npm ci finished but the Cube packages are missing in {target}")
    print(f"Cube engine {CUBE_VERSION} installed in {target}", file=out)
    return target


def render(
    model_dir: Path,
    queries: list[dict[str, Any]],
    dialect: str = "duckdb",
    meta: bool = False,
) -> dict[str, Any]:
    """Compile model_dir with Cube and render every query's SQL in one node run.

    Returns render.js's document: ``{"ok": True, "results": [...], "meta"?: ...}``
    or ``{"ok": False, "errors": [{"message", "file", "cube", "member"?}]}``.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
    node = _node_executable()
    target = node_dir()
    if not is_installed(target):
        raise CubeEngineUnavailable(NOT_INSTALLED)
    _sync_file("render.js", target)
    request = {
        "modelDir": str(Path(model_dir).resolve()),
        "dialect": dialect,
        "queries": list(queries),
        "meta": bool(meta),
    }
    env = dict(os.environ)
    env["NODE_PATH"] = str(target / "node_modules")
    env["CUBEJS_TESSERACT_SQL_PLANNER"] = "false"
    env.setdefault("NODE_NO_WARNINGS", "1")
    try:
        proc = subprocess.run(
            [node, str(target / "render.js")],
            input=json.dumps(request, default=str),
            cwd=target,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CubeEngineFailed(f"Cube engine timed out after {TIMEOUT_SECONDS}s rendering {model_dir}") from exc
    except OSError as exc:
        raise CubeEngineUnavailable(f"{NODE_MISSING} ({exc})") from exc
    stdout = proc.stdout.strip()
    try:
        doc = json.loads(stdout) if stdout else None
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or "ok" not in doc:
        raise CubeEngineFailed(
            f"Cube engine gave no JSON answer (exit {proc.returncode}).\n"
            f"stdout: {proc.stdout.strip()[-2000:]}\nstderr: {proc.stderr.strip()[-4000:]}"
        )
    return doc


def ensure_available() -> Path:
    """Raise CubeEngineUnavailable unless node and the pinned Cube packages are installed."""
    _node_executable()
    target = node_dir()
    if not is_installed(target):
        raise CubeEngineUnavailable(NOT_INSTALLED)
    return target


def render_checked(model_dir: Path, queries: list[dict[str, Any]], dialect: str = "duckdb",
                   meta: bool = False) -> list[dict[str, Any]]:
    """Per-query results, or CubeCompileFailed listing every compile error Cube reported."""
    doc = render(model_dir, queries, dialect, meta)
    if not doc.get("ok"):
        findings = []
        lines = []
        for err in doc.get("errors", []):
            file = str(Path(model_dir) / err["file"]) if err.get("file") else str(model_dir)
            cube = f" cube {err['cube']}" if err.get("cube") else ""
            if err.get("member"):
                cube += f"{',' if cube else ''} member {err['member']}"
            cube += ":" if cube else ""
            message = " ".join(str(err.get("message", "")).split())
            findings.append(Finding(file, None, None, "", f"Cube compile error:{cube} {message}"))
            lines.append(f"{file}:{cube} {message}")
        raise CubeCompileFailed("Cube's compiler rejects the model:\n" + "\n".join(lines), tuple(findings))
    return list(doc["results"])
