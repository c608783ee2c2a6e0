"""Every command-line entry point answers ``--help`` with its own ``python -m`` name and a help
text for each argument, and does nothing else (no benchmark, no server)."""

from __future__ import annotations

import importlib
import re
import sys

import pytest

MODULES = [
    "app.server",
    "app.store.dynamodb.admin",
    "bench",
    "bench.ab",
    "bench.coldstart",
    "bench.dynamodb_store",
    "bench.greeting",
    "bench.importtime",
    "bench.runtime",
    "bench.snapstart",
    "bench.throughput",
    "bench.warm",
    "devtools.dev_issuer",
    "devtools.gateway",
    "devtools.lambda_runtime.function",
    "infra.preflight",
]
ENTRY = re.compile(r"^  (\S.*?)(?:\s{2,}(\S.*))?$")


def help_text(
    module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """What ``python -m module --help`` prints (its ``main``, run here with that argv)."""
    package = module in ("app.server", "bench", "devtools.gateway")
    entry = importlib.import_module(f"{module}.__main__" if package else module)
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    argv = [["--help"]] if module == "devtools.lambda_runtime.function" else []
    with pytest.raises(SystemExit) as exit_:
        entry.main(*argv)
    assert exit_.value.code == 0
    return str(capsys.readouterr().out)


def undocumented(text: str) -> list[str]:
    """The arguments (positional or options) listed without a help text."""
    lines = text.splitlines()
    missing = []
    in_arguments = False
    for index, line in enumerate(lines):
        if line.endswith(":") and not line.startswith(" "):
            in_arguments = line in ("positional arguments:", "options:")
            continue
        match = ENTRY.match(line) if in_arguments else None
        if match is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        continued = following.startswith("   ") and not ENTRY.match(following)
        if match.group(2) is None and not continued:
            missing.append(match.group(1))
    return missing


@pytest.mark.parametrize("module", MODULES)
def test_help_names_the_command_and_every_argument(
    module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_text(module, monkeypatch, capsys)
    assert text.startswith(f"usage: python -m {module} "), text
    assert undocumented(text) == [], text


def test_an_argument_without_help_is_noticed() -> None:
    text = (
        "usage: x\n\noptions:\n  -h, --help  show this help\n  --quiet\n"
        "  --long-name LONG_NAME\n                        documented\n"
    )
    assert undocumented(text) == ["--quiet"]
