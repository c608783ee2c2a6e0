"""``python -m devtools.load`` as users run it: refusal before connecting, exit codes by the
SLO, report.json's schema, and a short real run against ``python -m app.server`` on SQLite."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from devtools.load.cli import main
from devtools.ports import free_port
from tests.load.stub import StubServer
from tests.support import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
STATS_KEYS = {
    "offered", "sent", "completed", "dropped", "status", "errors", "offered_rate",
    "achieved_rate", "p50", "p90", "p99", "p999", "max", "mean", "service", "mean_in_flight",
}  # fmt: skip
PLAN_KEYS = {
    "target", "kind", "rate", "seconds", "arrival", "ramp_seconds", "mix", "max_in_flight",
    "max_requests", "seed",
}  # fmt: skip


def load(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKEN"}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "devtools.load", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKEN", raising=False)


def this_machines_address() -> str:
    """A non-loopback address of this machine (its outgoing interface's: a UDP "connect"
    sends nothing), or 0.0.0.0, which Linux also delivers to local listeners."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address: str = probe.getsockname()[0]
        except OSError:
            return "0.0.0.0"  # noqa: S104
    return "0.0.0.0" if address.startswith("127.") else address  # noqa: S104


def test_a_non_loopback_url_is_refused_before_any_connection() -> None:
    address = this_machines_address()
    with socket.socket() as listener:
        listener.bind((address, 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        done = load(f"http://{address}:{port}", "--rate", "10", "--seconds", "1", "--mix", "hi")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "not a loopback address" in done.stderr
        assert "REMOTE=1" in done.stderr
        assert "load plan" not in done.stdout  # refused before the plan, let alone a request
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
        # ... though anyone connecting would have been seen:
        with socket.create_connection((address, port), timeout=5):
            listener.setblocking(True)
            listener.settimeout(5)
            listener.accept()[0].close()


def test_the_exit_status_follows_the_slo_and_the_report_has_its_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with StubServer() as stub:
        # A generous lag bound: on a busy machine a 50 ms hiccup would make the run invalid
        # (exit 2, test_open_loop.py), and the SLO's exit codes are what is tested here.
        common = [stub.url, "--rate", "40", "--seconds", "1", "--mix", "hi", "--max-lag-ms", "2000"]
        assert main([*common, "--out", str(tmp_path / "met")]) == 0
        printed = capsys.readouterr().out
        assert main([*common, "--slo", "hi:0.001", "--out", str(tmp_path / "missed")]) == 1
    assert printed.index("load plan") < printed.index("SLO met")
    report = json.loads((tmp_path / "met" / "report.json").read_text())
    assert report["valid"] is True
    assert report["invalid_reason"] is None
    assert set(report["plan"]) == PLAN_KEYS
    assert report["plan"]["kind"] == "server"
    assert set(report["routes"]) == {"hi"}
    assert set(report["overall"]) == STATS_KEYS == set(report["routes"]["hi"])
    assert set(report["overall"]["service"]) == {"p50", "p90", "p99", "max", "mean"}
    assert report["overall"]["sent"] == 40
    assert report["slo"] == {
        "verdict": "met",
        "routes": {"hi": {"p99_ms": 4000.0, "error_ratio": 0.01, "met": True,
                          "measured_p99_ms": report["overall"]["p99"],
                          "measured_error_ratio": 0.0}},
    }  # fmt: skip
    assert report["runtime"] is None
    assert {"t", "sent", "completed", "in_flight", "p50", "p99"} == set(report["timeline"][0])
    assert (tmp_path / "met" / "report.md").read_text().startswith("# Load run")
    chart = ElementTree.fromstring((tmp_path / "met" / "chart.svg").read_text())  # noqa: S314
    assert chart.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(chart.findall("{http://www.w3.org/2000/svg}polyline")) == 4
    again = json.loads((tmp_path / "missed" / "report.json").read_text())
    assert again["slo"]["verdict"] == "missed"


def test_a_bad_plan_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://127.0.0.1:1", "--rate", "5000", "--seconds", "1"]) == 2
    assert "rate must be in" in capsys.readouterr().err
    assert main(["http://127.0.0.1:1", "--rate", "5", "--seconds", "1", "--mix", "shop:2"]) == 2
    assert "unknown route 'shop'" in capsys.readouterr().err


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``python -m app.server`` on a SQLite file (development identity, no greeting delay)."""
    port = free_port()
    env = {**os.environ, "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}", "GREET_DELAY": "0"}
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "app.server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_mixed_run_against_the_server_adds_up(server: str, tmp_path: Path) -> None:
    # valid or not, met or not: that depends on the host; the counts must add up regardless
    assert main([server, "--rate", "60", "--seconds", "2", "--out", str(tmp_path)]) in (0, 1, 2)
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["routes"]) == {"hi", "get", "list", "create", "pay", "cancel", "delete"}
    for name, stats in [*report["routes"].items(), ("overall", report["overall"])]:
        assert stats["offered"] == stats["sent"] + stats["dropped"], name
        assert stats["sent"] == stats["completed"] + stats["errors"]["transport"], name
        assert sum(stats["status"].values()) == stats["completed"], name
    assert report["overall"]["offered"] == 120
    expected = {"hi": "200", "get": "200", "list": "200", "create": "201", "pay": "200",
                "cancel": "200", "delete": "204"}  # fmt: skip
    for name, status in expected.items():  # seeded orders and ETags held: every answer a success
        stats = report["routes"][name]
        assert stats["status"] == {status: stats["sent"]}, (name, stats["status"])
