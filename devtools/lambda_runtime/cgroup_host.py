"""Where this process may create control groups for a controller: ``find``.

cgroup v1 mounts one hierarchy per controller (or a few); the groups go under this process's own
group in it (``/proc/self/cgroup``). cgroup v2 has one hierarchy; a group there may give
controllers to its children only while it holds no process (the root excepted), so the groups go
under its root. A hybrid host (v1 controllers, an empty v2 mount) uses v1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUPS = Path("/proc/self/cgroup")


@dataclass(frozen=True)
class Hierarchy:
    """Where this process's groups for one controller go: ``base``, in cgroup ``version``."""

    controller: str  # "cpu" or "memory"
    base: Path
    version: int

    def files(self) -> dict[str, str]:
        if self.controller == "cpu":
            if self.version == 1:
                return {"stat": "cpu.stat", "throttled": "throttled_time"}
            return {"stat": "cpu.stat", "throttled": "throttled_usec"}
        if self.version == 1:
            return {"limit": "memory.limit_in_bytes", "events": "memory.oom_control"}
        return {"limit": "memory.max", "events": "memory.events"}


def find(controller: str, mountinfo: Path = MOUNTINFO, own: Path = OWN_CGROUPS) -> Hierarchy | str:
    """The hierarchy for ``controller`` that this process may create groups in, or why not."""
    mounts = _mounts(mountinfo)
    paths = _own_paths(own)
    for point, fstype, options in mounts:
        if fstype == "cgroup" and controller in options.split(","):
            base = point / paths.get(controller, "/").lstrip("/")
            return _checked(Hierarchy(controller, base, 1))
    for point, fstype, _ in mounts:
        if fstype != "cgroup2":
            continue
        # The root is the one group that may hold processes and give its children controllers.
        available = read(point / "cgroup.controllers").split()
        if controller in available:
            return _checked(Hierarchy(controller, point, 2))
    return f"no cgroup {controller} controller on this host"


def _checked(hierarchy: Hierarchy) -> Hierarchy | str:
    if not os.access(hierarchy.base, os.W_OK):
        return f"{hierarchy.base} is not writable" + (" (not root)" if os.geteuid() else "")
    return hierarchy


def _mounts(mountinfo: Path) -> list[tuple[Path, str, str]]:
    mounts = []
    for line in read(mountinfo).splitlines():
        ours, _, theirs = line.partition(" - ")
        fields, kind = ours.split(), theirs.split()
        if len(fields) > 4 and len(kind) > 2:
            mounts.append((Path(fields[4]), kind[0], kind[2]))
    return mounts


def _own_paths(own: Path) -> dict[str, str]:
    paths = {}
    for line in read(own).splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path
    return paths


def read(path: Path) -> str:
    """``path``'s text, empty when it cannot be read."""
    try:
        return path.read_text()
    except OSError:
        return ""
