"""The CPU and memory Lambda gives an environment, through Linux control groups.

"Lambda allocates CPU power in proportion to the amount of memory configured [...] At 1,769 MB,
a function has the equivalent of one vCPU (one vCPU-second of credits per second)", and at most
6 vCPUs at 10,240 MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html,
read 2026-12). Each environment's process runs in a control group of its own whose CPU quota is
``memory_mb / 1769`` of one CPU (capped by the host's CPUs) and whose memory limit is its memory
size: cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` and ``memory.limit_in_bytes``, or
cgroup v2 ``cpu.max`` and ``memory.max``. The process joins its groups before it executes the
runtime, so init, SnapStart's restore and every invocation run under them.

The groups live under one parent named after this process (``local-lambda-<pid>``), are removed
when their environment ends and the parent when the service stops; a parent left by a process
that died is removed at the next start. Where the host forbids it (not root, read-only
``/sys/fs/cgroup``, no such controller), ``Cgroups`` says why and the figures are unscaled.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import signal
import time
from pathlib import Path

from devtools.lambda_runtime.cgroup_host import Hierarchy, find, read

VCPU_MB = 1769  # memory size with the equivalent of one vCPU (configuration-memory)
MAX_VCPUS = 6  # at 10,240 MB
# A short period keeps the quota smooth over a ~100 ms invocation (with 100 ms, the kernel's
# default, a 50 ms burst at a 29 % share may run unthrottled); 1 ms is the kernel's least quota.
PERIOD_US = 10_000
MIN_QUOTA_US = 1_000
# The environments' parent outweighs everything else on the host (cgroup v1 cpu.shares and v2
# cpu.weight at their maximum): on Lambda an environment has its share whatever else runs; here
# the quota caps it and the weight keeps other processes from taking it.
WEIGHT = {1: ("cpu.shares", "262144"), 2: ("cpu.weight", "10000")}
PREFIX = "local-lambda-"
# Joins the groups named (count, then cgroup.procs files) and executes the rest.
_NUMBERS = itertools.count(1)  # environments of every service in this process
JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'  # noqa: E501


def cpu_share(memory_mb: int, host_cpus: int | None = None) -> float:
    """The vCPUs Lambda gives ``memory_mb`` (1,769 MB: one), at most 6 and the host's CPUs."""
    cpus = host_cpus or len(os.sched_getaffinity(0))
    return min(memory_mb / VCPU_MB, MAX_VCPUS, cpus)


def cpu_quota(share: float) -> tuple[int, int]:
    """``(quota_us, period_us)`` for ``share`` CPUs."""
    period = max(PERIOD_US, math.ceil(MIN_QUOTA_US / share))
    return round(share * period), period


class Group:
    """One environment's groups (one per hierarchy: one directory on cgroup v2)."""

    def __init__(self, directories: dict[str, Path], hierarchies: dict[str, Hierarchy]) -> None:
        self.directories = directories
        self.hierarchies = hierarchies

    def command(self, command: list[str]) -> list[str]:
        """``command``, run once its process has joined the groups."""
        procs = sorted({str(d / "cgroup.procs") for d in self.directories.values()})
        return ["/bin/sh", "-c", JOIN, "sh", str(len(procs)), *procs, *command]

    def read(self, controller: str, key: str) -> str:
        hierarchy = self.hierarchies[controller]
        return read(self.directories[controller] / hierarchy.files()[key])

    def throttled(self) -> tuple[int, float]:
        """How often and how long (seconds) the CPU quota held the environment back."""
        if "cpu" not in self.directories:
            return 0, 0.0
        hierarchy = self.hierarchies["cpu"]
        stat = _fields(self.read("cpu", "stat"))
        unit = 1e-9 if hierarchy.version == 1 else 1e-6
        return stat.get("nr_throttled", 0), stat.get(hierarchy.files()["throttled"], 0) * unit

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the environment for its memory limit."""
        if "memory" not in self.directories:
            return False
        return _fields(self.read("memory", "events")).get("oom_kill", 0) > 0

    def remove(self) -> None:
        """Remove the groups (ending what the runtime left in them: its own children)."""
        for directory in self.directories.values():
            _remove(directory)


def _fields(text: str) -> dict[str, int]:
    result = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if value.strip().isdigit():
            result[name] = int(value)
    return result


def _remove(directory: Path, *, kill: bool = True) -> None:
    """Remove ``directory`` and its groups; ``kill``: end what still runs in them first."""
    for child in [p for p in directory.iterdir() if p.is_dir()] if directory.is_dir() else []:
        _remove(child, kill=kill)
    for _ in range(50 if kill else 1):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if not kill:
                return
            for pid in read(directory / "cgroup.procs").split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.02)


class Cgroups:
    """This service's parent groups and the environments' groups under them.

    ``scale_cpu`` and ``limit_memory`` say what is wanted; ``cpu`` and ``memory`` what the host
    allows (a ``Hierarchy``) or why not (a string).
    """

    def __init__(self, *, scale_cpu: bool, limit_memory: bool) -> None:
        self.cpu = find("cpu") if scale_cpu else "not asked for"
        self.memory = find("memory") if limit_memory else "not asked for"
        self.name = f"{PREFIX}{os.getpid()}"  # shared by the services of this process
        self._groups: list[Group] = []
        for hierarchy in self.hierarchies().values():
            _clean_leftovers(hierarchy.base)

    def hierarchies(self) -> dict[str, Hierarchy]:
        return {h.controller: h for h in (self.cpu, self.memory) if isinstance(h, Hierarchy)}

    @property
    def cpu_scaled(self) -> bool:
        return isinstance(self.cpu, Hierarchy)

    def describe(self, memory_mb: int) -> str:
        """One line: the CPU share and memory limit each environment gets, or why not."""
        if isinstance(self.cpu, Hierarchy):
            share = cpu_share(memory_mb)
            quota, period = cpu_quota(share)
            cpu = (
                f"CPU {share:.2f} vCPU per environment ({memory_mb} MB / {VCPU_MB} MB; "
                f"cgroup v{self.cpu.version} quota {quota}/{period} µs)"
            )
        else:
            cpu = f"CPU unscaled ({self.cpu}): durations are at this host's full CPU"
        if isinstance(self.memory, Hierarchy):
            memory = f"memory limited to {memory_mb} MB (cgroup v{self.memory.version})"
        else:
            memory = f"memory not limited ({self.memory})"
        return f"{cpu}; {memory}"

    def group(self, memory_mb: int) -> Group | None:
        """A new environment's groups, sized for ``memory_mb``; None when there are none."""
        hierarchies = self.hierarchies()
        if not hierarchies:
            return None
        number = next(_NUMBERS)
        directories: dict[str, Path] = {}
        for controller, hierarchy in hierarchies.items():
            parent = hierarchy.base / self.name
            if not parent.exists():
                parent.mkdir()
                if controller == "cpu":
                    weight, value = WEIGHT[hierarchy.version]
                    (parent / weight).write_text(value)
            if hierarchy.version == 2:
                _enable(controller, hierarchy.base, parent)
            directory = parent / f"env-{number}"
            directory.mkdir()
            directories[controller] = directory
            if controller == "cpu":
                _limit_cpu(hierarchy, directory, memory_mb)
            else:
                _limit_memory(hierarchy, directory, memory_mb)
        self._groups.append(Group(directories, hierarchies))
        return self._groups[-1]

    def close(self) -> None:
        """Remove the environments' groups, and the parents unless another service of this
        process still has groups there."""
        for group in self._groups:
            group.remove()
        for hierarchy in self.hierarchies().values():
            with contextlib.suppress(OSError):
                (hierarchy.base / self.name).rmdir()


def _enable(controller: str, root: Path, parent: Path) -> None:
    for directory in (root, parent):
        (directory / "cgroup.subtree_control").write_text(f"+{controller}")


def _limit_cpu(hierarchy: Hierarchy, directory: Path, memory_mb: int) -> None:
    quota, period = cpu_quota(cpu_share(memory_mb))
    if hierarchy.version == 1:
        (directory / "cpu.cfs_period_us").write_text(str(period))
        (directory / "cpu.cfs_quota_us").write_text(str(quota))
    else:
        (directory / "cpu.max").write_text(f"{quota} {period}")


def _limit_memory(hierarchy: Hierarchy, directory: Path, memory_mb: int) -> None:
    limit = str(memory_mb * 1024 * 1024)
    (directory / hierarchy.files()["limit"]).write_text(limit)
    # Without swap accounting the limit would page out instead of ending the environment.
    v1, v2 = ("memory.memsw.limit_in_bytes", limit), ("memory.swap.max", "0")
    swap, value = v1 if hierarchy.version == 1 else v2
    if (directory / swap).exists():
        (directory / swap).write_text(value)


def _clean_leftovers(base: Path) -> None:
    """Remove the parents of services that died without removing them."""
    for parent in base.glob(f"{PREFIX}*"):
        pid = parent.name.removeprefix(PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            # Its runtimes died with it (``--pdeathsig``); a group still busy (another PID
            # namespace's, say) is left alone.
            _remove(parent, kill=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
