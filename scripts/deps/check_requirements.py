"""Exits 0 when every `name==version` line of a requirements file is installed at that version.

Prints the lines that are missing or at another version, so `make deps` installs the file only
when something is absent and says why.
"""
import sys
from importlib import metadata


def unmet(path: str) -> list[str]:
    missing = []
    with open(path, encoding="utf-8") as requirements:
        for line in requirements:
            requirement = line.split("#", 1)[0].strip()
            if not requirement:
                continue
            name, _, version = requirement.partition("==")
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                missing.append(f"{requirement} (not installed)")
                continue
            if version and installed != version:
                missing.append(f"{requirement} (found {installed})")
    return missing


if __name__ == "__main__":
    problems = unmet(sys.argv[1])
    for problem in problems:
        print(f"python requirement unmet: {problem}")
    sys.exit(1 if problems else 0)
