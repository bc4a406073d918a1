"""Print the pinned requirements in pyproject.toml, one a line: the product's and those of the
extras named. The image installs them in a layer of their own, before the code is copied in, so
a change to the code alone rebuilds (and uploads) only the small layers after it.

    python requirements.py pyproject.toml mysql > requirements.txt
"""

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return lines


if __name__ == "__main__":
    print("\n".join(requirements(Path(sys.argv[1]), sys.argv[2:])))
