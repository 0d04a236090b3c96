"""`python -m dashboards build` writes dashboards/build/*.json; `check` says whether the
committed files are a fresh build (exit 1 with the differences when not)."""

from __future__ import annotations

import sys

from dashboards.build import differences, write
from dashboards.catalog import BUILD_DIR


def main(argv: list[str]) -> int:
    if argv == ["build"]:
        for name in write():
            print(f"wrote {BUILD_DIR / name}")
        return 0
    if argv == ["check"]:
        diff = differences()
        print("\n".join(diff) if diff else f"{BUILD_DIR} is a fresh build")
        return 1 if diff else 0
    print("usage: python -m dashboards build|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
