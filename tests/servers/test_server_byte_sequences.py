"""Every row of ``tests/servers/byte_sequences.py`` gets its answer from both of uvicorn's
parsers: raw bytes over real sockets, each followed by a canary request and a half-close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.byte_sequences import CANARY, TABLE, Case
from tests.servers.test_server_after_body import half_closed, start
from tests.servers.test_server_framing import Server, statuses


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from start(request.param, tmp_path_factory.mktemp("log"))


@pytest.mark.parametrize("case", TABLE, ids=[case.name for case in TABLE])
def test_a_byte_sequence_gets_the_answer_of_the_table(server: Server, case: Case) -> None:
    raw, _ = half_closed(server, case.sent + CANARY)
    assert tuple(statuses(raw)) == case.statuses, case.rule
    if case.statuses and case.statuses[-1] >= 400:  # refused by the server: JSON, then closed
        assert raw.endswith(b'"}'), raw
        assert b"connection: close\r\n" in raw
