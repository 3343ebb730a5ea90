#!/usr/bin/env python3
"""ctest docker.runtime_libraries (label deploy): each runtime image installs the Debian packages
that hold every shared library its binary loads.

    tests/docker/runtime_libraries.py DOCKERFILE BUILD_DIR

The images are built from Dockerfile.multi by tests/docker/compose_test.sh, which takes minutes;
a binary that starts linking a new library (the gateway picking up libhiredis through a shared
object file) would only fail there, at the image's `RUN <binary> --help`. This check answers the
same question in a second from the dev build: for each image stage it collects the packages the
stage and the stages it is built FROM install, adds what they depend on (apt-cache) and what
bookworm-slim already holds (apt's own dependencies), and asks dpkg which package owns each
library `ldd` resolves for the binary. A library outside that set fails the check, naming the
package to add.
"""

import re
import subprocess
import sys
from pathlib import Path

# Image stage -> the binary it runs, relative to the build directory.
BINARIES = {
    "gateway": "gateway/gateway",
    "user-service": "user-service/user-service",
    "data-service": "data-service/data-service",
}


def parse_stages(dockerfile: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Stage -> parent stage, and stage -> packages its own apt-get install lines name."""
    text = dockerfile.read_text().replace("\\\n", " ")
    parents: dict[str, str] = {}
    packages: dict[str, set[str]] = {}
    stage = None
    for line in text.splitlines():
        found = re.match(r"\s*FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if found:
            stage = found.group(2)
            parents[stage] = found.group(1)
            packages[stage] = set()
            continue
        installed = re.search(r"apt-get install ([^&]*)", line)
        if stage and installed:
            words = installed.group(1).split()
            packages[stage].update(w for w in words if not w.startswith("-") and "$" not in w)
    return parents, packages


def with_dependencies(names: set[str]) -> set[str]:
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *sorted(names)],
        check=True, capture_output=True, text=True).stdout
    closure = set()
    for line in out.splitlines():
        name = line.strip().removeprefix("Depends:").removeprefix("PreDepends:").strip()
        name = name.strip("<>").split(":")[0]
        if name and " " not in name:
            closure.add(name)
    return closure


def loaded_libraries(binary: Path) -> list[str]:
    out = subprocess.run(["ldd", str(binary)], check=True, capture_output=True, text=True).stdout
    paths = []
    for line in out.splitlines():
        found = re.search(r"=>\s+(/\S+)", line)
        if found:
            paths.append(found.group(1))
    return paths


def spellings(path: str) -> list[str]:
    """The names dpkg may know a library by: as ldd gave it, resolved, and with /lib for /usr/lib
    (bookworm merges the two; dpkg's database keeps whichever the package shipped)."""
    names = []
    for candidate in (path, str(Path(path).resolve())):
        names += [candidate, re.sub(r"^/usr/lib/", "/lib/", candidate)]
    return list(dict.fromkeys(names))


def owners(paths: set[str]) -> dict[str, str]:
    """Library path -> the package that ships it, from one dpkg -S call for every spelling."""
    spelled = {path: spellings(path) for path in paths}
    names = sorted({name for names in spelled.values() for name in names})
    out = subprocess.run(["dpkg", "-S", *names], capture_output=True, text=True).stdout
    package_of = {}
    for line in out.splitlines():
        packages, _, name = line.partition(": ")
        package_of[name.strip()] = packages.split(",")[0].split(":")[0].strip()
    found = {}
    for path, names in spelled.items():
        for name in names:
            if name in package_of:
                found[path] = package_of[name]
                break
    return found


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    dockerfile, build = Path(sys.argv[1]), Path(sys.argv[2])
    parents, packages = parse_stages(dockerfile)
    failures = []
    for stage, relative in BINARIES.items():
        binary = build / relative
        if not binary.exists():
            failures.append(f"{stage}: {binary} is not built")
            continue
        if stage not in parents:
            failures.append(f"{stage}: no stage of that name in {dockerfile}")
            continue
        listed = {"apt"}  # bookworm-slim ships apt, and so everything apt depends on
        walk = stage
        while walk in packages:
            listed |= packages[walk]
            walk = parents[walk]
        available = with_dependencies(listed)
        libraries = loaded_libraries(binary)
        package_of = owners(set(libraries))
        for library in libraries:
            package = package_of.get(library)
            if package is None:
                failures.append(f"{stage}: no Debian package owns {library}")
            elif package not in available:
                failures.append(f"{stage}: loads {library} from package {package}, "
                                f"which the image does not install")
        print(f"runtime-libraries: {stage}: {len(libraries)} libraries checked")
    for failure in failures:
        print(f"runtime-libraries: FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
