"""Read a file as committed at a git ref (`git show REF:path`), without touching the work tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from activation_semantic.errors import InputError, UsageError
from activation_semantic.yaml_source import MAX_DEFINITION_BYTES

GIT_TIMEOUT_S = 60


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, env=env, timeout=GIT_TIMEOUT_S,
                              check=False)
    except FileNotFoundError:
        raise InputError("git is not installed (or not on PATH); --against needs it") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} took more than {GIT_TIMEOUT_S} s; giving up") from None
    except OSError as exc:
        raise InputError(f"cannot run git: {exc.strerror or exc}") from None


def _said(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return f" (git: {text[-1]})" if text else ""


def read_at_ref(path: Path, ref: str) -> tuple[str, str]:
    """The text of `path` at `ref` in the repository that holds it, and a display name `relative/path@ref`."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\r\x00"):
        raise UsageError(f"--against {ref!r} is not a git ref; give a branch, tag or commit such as origin/main")
    absolute = Path(os.path.abspath(path))
    folder = absolute.parent
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InputError(f"{path}: not inside a git repository, so --against {ref} has nothing to read{_said(top)}")
    root = Path(top.stdout.decode("utf-8", "replace").strip())
    try:
        rel = absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"{path}: outside the git repository at {root}") from None
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise InputError(f"unknown git ref {ref!r} in {root}: fetch it first (in GitHub Actions, check out with "
                         "fetch-depth: 0) or name a branch, tag or commit that exists")
    sha = commit.stdout.decode().strip()
    kind = _git(root, "cat-file", "-t", f"{sha}:{rel}")
    if kind.returncode != 0:
        raise InputError(f"{rel} does not exist at {ref}: nothing to compare with (a new definition has no old side)")
    if kind.stdout.decode().strip() != "blob":
        raise InputError(f"{rel} at {ref} is a {kind.stdout.decode().strip()}, not a file")
    size = _git(root, "cat-file", "-s", f"{sha}:{rel}")
    if size.returncode == 0 and int(size.stdout.decode().strip() or 0) > MAX_DEFINITION_BYTES:
        raise InputError(f"{rel} at {ref} is over the {MAX_DEFINITION_BYTES} byte limit for a definition file")
    shown = _git(root, "show", "--no-textconv", f"{sha}:{rel}")
    if shown.returncode != 0:
        raise InputError(f"cannot read {rel} at {ref}{_said(shown)}")
    data = shown.stdout
    display = f"{rel}@{ref}"
    if b"\x00" in data:
        raise InputError(f"{display}: binary content (NUL bytes); a definition file is UTF-8 YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{display}:{line}: not valid UTF-8; save the file as UTF-8") from None
    return text.removeprefix("\ufeff"), display
