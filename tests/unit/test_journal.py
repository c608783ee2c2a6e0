"""The local runtime's records are bounded: the newest kept, every one counted."""

from __future__ import annotations

import pytest

from devtools.lambda_runtime.journal import LIMIT_ENV, Journal, default_limit


def test_a_journal_keeps_the_newest_records_and_counts_all() -> None:
    journal: Journal[int] = Journal(limit=3)
    mark = journal.total
    for n in range(5):
        journal.append(n)
    assert (len(journal), journal.total) == (3, 5)
    assert journal == [2, 3, 4]
    assert (journal[0], journal[-1], journal[1:]) == (2, 4, [3, 4])
    assert list(journal) == [2, 3, 4]
    assert journal.since(mark) == [2, 3, 4]  # what is still kept of what came after the mark
    assert journal.since(3) == [3, 4]
    assert journal.since(5) == []


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_ENV, "7")
    assert Journal[str]().limit == 7
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv(LIMIT_ENV, bad)
        with pytest.raises(ValueError, match=LIMIT_ENV):
            default_limit()
