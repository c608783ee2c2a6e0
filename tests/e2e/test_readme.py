"""The README's "Using the API" section, run as a reader runs it: its shell blocks, verbatim and
in order, in one bash, against ``python -m app.server`` (what `make run` serves) on a free port
with a fresh SQLite file. Under each command, every ``# →`` line the README shows must be a line
of what the command printed, in that order (``…`` stands for whatever varies)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import app_server

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Using the API"
BASE_URL = "http://127.0.0.1:8000"  # the section's `API=` line; the test serves elsewhere
ASSIGNMENT = re.compile(rf"^API={re.escape(BASE_URL)}(?=\s|$)", re.MULTILINE)
SHOWN = "# → "
STEP = "@@readme-step {}@@"


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)


def section(readme: str, heading: str = SECTION) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = readme.index(f"\n{heading}\n")
    following = readme.find("\n## ", start + 1)
    return readme[start : following if following != -1 else None]


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```(?:sh|bash)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def steps(block: str) -> list[Step]:
    """Commands (with their continuation lines) and the ``# →`` lines shown under each."""
    parsed: list[Step] = []
    continued = False
    for line in block.splitlines():
        if line.startswith(SHOWN):
            assert parsed, f"{line!r} follows no command"
            assert not continued, f"{line!r} follows an unfinished command"
            parsed[-1].shown.append(line.removeprefix(SHOWN))
        elif continued:
            parsed[-1].command += "\n" + line
        elif line.strip() and not line.lstrip().startswith("#"):
            parsed.append(Step(line))
        continued = line.endswith("\\")
    return parsed


def pattern(shown: str, base_url: str) -> re.Pattern[str]:
    """A shown line as a whole-line pattern: ``…`` is any text, the base URL the server's."""
    shown = shown.replace(BASE_URL, base_url)
    return re.compile(".*".join(re.escape(part) for part in shown.split("…")))


def unmatched(shown: list[str], printed: list[str], base_url: str) -> list[str]:
    """The shown lines that are not, in order, lines of ``printed``."""
    rest = iter(printed)
    return [
        line for line in shown if not any(pattern(line, base_url).fullmatch(out) for out in rest)
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``python -m app.server`` on a free port with a new SQLite file: its base URL."""
    env = {**os.environ, "STORE_URL": f"sqlite:///{tmp_path / 'orders.db'}"}
    env.pop("GREET_DELAY", None)  # the README states the default
    with app_server(env) as base_url:
        yield base_url


def test_the_parser_reads_commands_continuations_and_shown_lines() -> None:
    block = "# about\ncurl -s $API/a \\\n  -d x   # note\n# → one\n# → two\n\necho b\n"
    assert steps(block) == [
        Step("curl -s $API/a \\\n  -d x   # note", ["one", "two"]),
        Step("echo b"),
    ]
    assert unmatched(["a…", "c"], ["x", "ab", "c"], BASE_URL) == []
    assert unmatched(["c", "ab"], ["ab", "c"], BASE_URL) == ["ab"]  # order matters


def test_using_the_api_runs_as_written(server: str, tmp_path: Path) -> None:
    assert shutil.which("curl"), "curl is not installed: the README's commands use it"
    blocks = shell_blocks(section((ROOT / "README.md").read_text()))
    assert len(blocks) >= 3  # the walkthrough, ETag, Idempotency-Key
    script = "\n".join(blocks)
    assert len(ASSIGNMENT.findall(script)) == 1, f"one `API={BASE_URL}` line sets the address"
    run = [step for block in blocks for step in steps(block)]
    assert sum(bool(step.shown) for step in run) >= 15
    lines = []
    for number, step in enumerate(run):
        command = ASSIGNMENT.sub(f"API={server}", step.command)
        lines += [f"echo; echo '{STEP.format(number)}'", command]
    done = subprocess.run(  # noqa: S603 - the README's commands, in a fresh folder
        ["bash", "-c", "\n".join(lines)],  # noqa: S607
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, as a terminal shows both
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "API"},
    )
    printed = done.stdout.replace("\r", "")
    assert done.returncode == 0, printed
    outputs = re.split(r"^@@readme-step \d+@@$", printed, flags=re.MULTILINE)[1:]
    assert len(outputs) == len(run), printed
    for step, output in zip(run, outputs, strict=True):
        missing = unmatched(step.shown, output.splitlines(), server)
        assert not missing, f"{step.command}\nprinted:{output}\nbut not, in order: {missing}"
