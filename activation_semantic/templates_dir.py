"""Where the Jinja templates are: inside an installed wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    for candidate in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates"):
        if (candidate / "yaml" / "cube.yml.j2").is_file():
            return candidate
    raise FileNotFoundError(f"templates not found next to {PACKAGE_DIR}; reinstall activation-semantic")
