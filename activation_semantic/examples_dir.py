"""The bundled examples: packaged in the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

from activation_semantic.templates_dir import PACKAGE_DIR

DEFAULT_EXAMPLE = "team_collaboration"


def example_dir(name: str = DEFAULT_EXAMPLE) -> Path:
    for candidate in (PACKAGE_DIR / "examples" / name, PACKAGE_DIR.parent / "examples" / name):
        if (candidate / "activation.yml").is_file():
            return candidate
    raise FileNotFoundError(f"bundled example '{name}' not found next to {PACKAGE_DIR}; reinstall activation-semantic")
