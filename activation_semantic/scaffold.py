"""`init`: copy the bundled example into a folder, ready to generate and verify."""

from __future__ import annotations

from pathlib import Path

from activation_semantic.errors import InputError
from activation_semantic.examples_dir import example_dir

MODELINE = "# yaml-language-server: $schema=activation.schema.json\n"

SNIPPET = """# Activation metric

`activation.yml` defines what "activated" means; bump `version` whenever that changes.

```sh
activation-semantic validate activation.yml
activation-semantic generate activation.yml --out model          # Cube model under model/cubes, model/views
activation-semantic verify activation.yml fixture.yml             # numbers checked in DuckDB
activation-semantic generate activation.yml --out model --check   # in CI: fails when model/ is stale
```

`Accounts.percentQualified` counts only accounts whose milestone logs qualify.
"""


def write_example(directory: Path, overwrite: bool = False) -> list[Path]:
    from activation_semantic.json_schema import definition_schema
    from activation_semantic.report import dumps

    src = example_dir()
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix in (".yml", ".csv"))
    targets = [directory / p.name for p in files] + [directory / "README.activation.md",
                                                     directory / "activation.schema.json"]
    clash = [t for t in targets if t.exists()]
    if clash and not overwrite:
        raise InputError(f"{clash[0]} already exists; choose an empty folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for p in files:
            text = p.read_text(encoding="utf-8")
            if p.name == "activation.yml" and not text.startswith("# yaml-language-server"):
                text = MODELINE + text
            (directory / p.name).write_text(text, encoding="utf-8")
        (directory / "README.activation.md").write_text(SNIPPET, encoding="utf-8")
        (directory / "activation.schema.json").write_text(dumps(definition_schema()) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{directory}: cannot write the example: {exc.strerror or exc}") from None
    return targets
