"""Run every benchmark in bench/ (each module exposes main()) and report where results went."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    failures = 0
    for path in sorted(HERE.glob("*.py")):
        if path.name in {"run_all.py", "__init__.py"} or path.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"== {path.stem}")
        try:
            module.main()
        except Exception as exc:  # noqa: BLE001  (report and keep going)
            failures += 1
            print(f"   failed: {exc!r}")
    print("results: docs/BENCHMARKS.md")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
