"""Templates and the bundled example are found from a checkout and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from activation_semantic.examples_dir import example_dir
from activation_semantic.templates_dir import templates_dir


def test_checkout_fallback() -> None:
    assert templates_dir() == ROOT / "templates"
    assert example_dir() == ROOT / "examples" / "team_collaboration"


@pytest.mark.slow
def test_wheel_carries_templates_and_example(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("activation_semantic-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "activation_semantic/templates/yaml/cube.yml.j2" in names
    assert "activation_semantic/templates/js/cube.js.j2" in names
    assert "activation_semantic/examples/team_collaboration/activation.yml" in names
    assert "activation_semantic/cube_node/render.js" in names and "activation_semantic/py.typed" in names
    assert not any("node_modules" in n for n in names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = ("from activation_semantic.templates_dir import templates_dir;"
             "from activation_semantic.examples_dir import example_dir;"
             "print(templates_dir()); print(example_dir())")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(site / "activation_semantic" / "templates"),
                   str(site / "activation_semantic" / "examples" / "team_collaboration")]
    demo = subprocess.run([sys.executable, "-m", "activation_semantic", "demo", str(tmp_path / "demo")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "12 passed, 0 failed" in demo.stdout
