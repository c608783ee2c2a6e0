"""Settings and the store URL: validated at startup, one place decides."""

from __future__ import annotations

import pytest

from app.config import Settings, env_name
from app.store import open_store
from app.store.sqlite import SQLiteStore, path_from_url


def test_env_names_are_the_upper_cased_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields:
        assert env_name(field) == field.upper()
    monkeypatch.setenv(env_name("store_url"), "sqlite:////tmp/x.db")
    monkeypatch.setenv(env_name("dev_owner"), "carol")
    settings = Settings()
    assert settings.store_url == "sqlite:////tmp/x.db"
    assert settings.dev_owner == "carol"


def test_env_name_rejects_unknown_fields() -> None:
    with pytest.raises(KeyError):
        env_name("nope")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/orders.db", "var/orders.db"),
        ("sqlite:////tmp/abs.db", "/tmp/abs.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    assert path_from_url(url) == path
    assert isinstance(open_store(url), SQLiteStore)


@pytest.mark.parametrize("url", ["sqlite://host/x.db", "sqlite:///", "postgres://x/y", "x.db"])
def test_bad_store_urls_fail_fast(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|Unsupported"):
        open_store(url)


def test_default_store_is_a_file_in_the_ignored_var_folder() -> None:
    assert Settings().store_url == "sqlite:///var/orders.db"
