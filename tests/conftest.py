"""Shared test helpers: paths, the CLI runner, and whether Node/Cube are available."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = ("team_collaboration", "crm_onboarding", "developer_api")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def cube_available() -> tuple[bool, str]:
    try:
        from activation_semantic import cube_engine
    except ImportError as exc:  # pragma: no cover
        return False, f"cube engine module missing: {exc}"
    try:
        cube_engine.ensure_available()
    except Exception as exc:
        return False, str(exc)
    return True, ""


@pytest.fixture(scope="session")
def cube() -> None:
    """Tests that need Cube's compiler: skip locally without it, fail loudly in CI."""
    ok, why = cube_available()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Cube engine tests: {why}")
        pytest.skip(why)


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()
