"""Generation speed: a 50-set x 20-milestone definition, YAML and JS, against the one-second budget.

    python benchmarks/generate.py [--sets 50] [--milestones 20] [--runs 5]

Prints the median wall time of load + validate + render per format and its ratio to the budget.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from activation_semantic.loader import load_definition
from activation_semantic.render import render

BUDGET_SECONDS = 1.0


def big_definition(n_sets: int, n_milestones: int) -> dict:
    sets = []
    for i in range(n_sets):
        rule = ["all", "any", n_milestones // 2][i % 3]
        sets.append({"name": f"set_{i}", "title": f"Set {i}", "require": rule, "within_days": 7 + i % 30,
                     "milestones": [{"value": f"Milestone {j} of set {i % 5}", "key": f"m{j}"}
                                    for j in range(n_milestones)]})
    return {"version": 1, "name": "benchmark", "accounts": {"sql_table": "accounts"},
            "milestone_logs": {"sql_table": "milestone_completion_logs", "user_id": "user_id"},
            "milestone_sets": sets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=50)
    parser.add_argument("--milestones", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "activation.yml"
        path.write_text(yaml.safe_dump(big_definition(args.sets, args.milestones)))
        for fmt in ("yaml", "js"):
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                files = render(load_definition(path), fmt)  # type: ignore[arg-type]
                times.append(time.perf_counter() - start)
            size = sum(len(t) for t in files.values())
            median = statistics.median(times)
            print(f"{fmt:<5} {args.sets} sets x {args.milestones} milestones: median {median:.3f} s "
                  f"({median / BUDGET_SECONDS:.2f}x the {BUDGET_SECONDS:.0f} s budget), {size / 1e6:.1f} MB of model")


if __name__ == "__main__":
    main()
