"""The CPU share Lambda gives a memory size, and where the local runtime finds its cgroups."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.lambda_runtime.cgroup_host import Hierarchy, find
from devtools.lambda_runtime.cgroups import cpu_quota, cpu_share


@pytest.mark.parametrize(
    ("memory_mb", "host_cpus", "share"),
    [
        (1769, 8, 1.0),  # "At 1,769 MB, a function has the equivalent of one vCPU"
        (512, 8, 512 / 1769),
        (3538, 8, 2.0),
        (10240, 8, 10240 / 1769),  # 5.79: Lambda's most, 6 vCPUs, at 10,240 MB
        (10240, 2, 2.0),  # no more than the host has
    ],
)
def test_the_share_follows_memory(memory_mb: int, host_cpus: int, share: float) -> None:
    assert cpu_share(memory_mb, host_cpus) == pytest.approx(share)


def test_the_quota_is_the_share_of_a_period_never_below_the_kernels_least() -> None:
    assert cpu_quota(1.0) == (10_000, 10_000)
    assert cpu_quota(512 / 1769) == (2894, 10_000)
    quota, period = cpu_quota(128 / 1769)  # 0.72 ms of 10 ms is under the 1 ms least
    assert quota >= 1000
    assert quota / period == pytest.approx(128 / 1769, rel=1e-3)


def _host(tmp_path: Path, mounts: list[str], own: list[str]) -> tuple[Path, Path]:
    mountinfo, cgroup = tmp_path / "mountinfo", tmp_path / "cgroup"
    mountinfo.write_text("".join(f"{line}\n" for line in mounts))
    cgroup.write_text("".join(f"{line}\n" for line in own))
    return mountinfo, cgroup


def test_cgroup_v1_groups_go_under_this_process_own_group(tmp_path: Path) -> None:
    (tmp_path / "memory" / "job").mkdir(parents=True)
    mountinfo, own = _host(
        tmp_path,
        [f"40 30 0:35 / {tmp_path}/memory rw,relatime - cgroup cgroup rw,memory"],
        ["4:memory:/job", "0::/"],
    )
    found = find("memory", mountinfo, own)
    assert found == Hierarchy("memory", tmp_path / "memory" / "job", 1)
    assert find("cpu", mountinfo, own) == "no cgroup cpu controller on this host"


def test_cgroup_v2_groups_go_under_the_root_where_the_controller_is(tmp_path: Path) -> None:
    root = tmp_path / "unified"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    mountinfo, own = _host(
        tmp_path,
        [f"41 30 0:36 / {root} rw,relatime - cgroup2 cgroup2 rw,nsdelegate"],
        ["0::/user.slice/session-1.scope"],
    )
    assert find("cpu", mountinfo, own) == Hierarchy("cpu", root, 2)
    assert Hierarchy("cpu", root, 2).files()["stat"] == "cpu.stat"
    memory = Hierarchy("memory", root, 2).files()
    assert memory == {"limit": "memory.max", "events": "memory.events"}
    (root / "cgroup.controllers").write_text("pids\n")  # hybrid hosts: no cpu on cgroup2
    assert find("cpu", mountinfo, own) == "no cgroup cpu controller on this host"


def test_a_hierarchy_this_process_may_not_write_is_refused_with_the_reason(tmp_path: Path) -> None:
    mountinfo, own = _host(
        tmp_path,
        [f"40 30 0:35 / {tmp_path}/cpu rw,relatime - cgroup cgroup rw,cpu"],
        ["2:cpu:/gone"],
    )
    found = find("cpu", mountinfo, own)
    assert isinstance(found, str)
    assert found.startswith(f"{tmp_path}/cpu/gone is not writable")
