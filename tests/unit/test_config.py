"""Settings and the store URL: validated at startup, one place decides."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import get_args

import pytest

from app.aws_lambda.factory import lambda_settings
from app.config import ConfigError, LogLevel, Settings, load_settings
from app.contract.environment import GREET_DELAY_RANGE, LOG_LEVELS, SETTINGS, env_name
from app.store import open_store
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.store import DynamoDBStore
from app.store.sqlite import SQLiteStore, path_from_url

ROOT = Path(__file__).resolve().parents[2]


def test_env_names_are_the_upper_cased_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields:
        assert env_name(field) == field.upper()
    monkeypatch.setenv(env_name("store_url"), "sqlite:////tmp/x.db")
    monkeypatch.setenv(env_name("dev_owner"), "carol")
    settings = Settings()
    assert settings.store_url == "sqlite:////tmp/x.db"
    assert settings.dev_owner == "carol"


@pytest.mark.parametrize("owner", ["\udcff", " ", "a\tb", "x" * 257], ids=repr)
def test_the_development_owner_follows_the_subject_rule(
    monkeypatch: pytest.MonkeyPatch, owner: str
) -> None:
    """An undecodable byte in DEV_OWNER reaches Python as a lone surrogate (surrogateescape)."""
    monkeypatch.setenv(env_name("dev_owner"), owner)
    with pytest.raises(ValueError, match="dev_owner"):
        Settings()


def test_env_name_rejects_unknown_fields() -> None:
    with pytest.raises(KeyError):
        env_name("nope")


def test_the_contract_names_every_setting_and_its_bounds() -> None:
    """infra/ reads the variables and bounds from app.contract: they are the Settings' own."""
    assert set(Settings.model_fields) == SETTINGS
    assert get_args(LogLevel) == LOG_LEVELS
    low, high = GREET_DELAY_RANGE
    assert Settings(greet_delay=low).greet_delay == low
    assert Settings(greet_delay=high).greet_delay == high
    for outside in (low - 0.001, high + 0.001):
        with pytest.raises(ValueError, match="greet_delay"):
            Settings(greet_delay=outside)


def configuration_table() -> dict[str, str]:
    """docs/local-development.md's configuration table: each variable's default column."""
    text = (ROOT / "docs" / "local-development.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("| variable | default | meaning |\n| --- | --- | --- |\n", 1)[1]
    rows = table.split("\n\n", 1)[0].splitlines()
    return {
        found.group(1): found.group(2)
        for found in (re.match(r"\| `([A-Z_]+)` \| ([^|]*) \|", row) for row in rows)
        if found
    } | {row: "" for row in rows if not row.startswith("| `")}


def test_the_configuration_table_lists_every_setting_with_its_default() -> None:
    table = configuration_table()
    assert set(table) == {env_name(field) for field in Settings.model_fields}
    for field, info in Settings.model_fields.items():
        shown = re.match(r"`([^`]*)`", table[env_name(field)])
        if info.default is None:
            assert shown is None, field
        else:
            value = f"{info.default:g}" if isinstance(info.default, float) else str(info.default)
            assert shown is not None, field
            assert shown.group(1) == value, field


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


def test_dynamodb_url_names_table_region_endpoint_and_options() -> None:
    config = DynamoDBConfig.from_url(
        "dynamodb://orders-prod?region=eu-west-1&endpoint=http://127.0.0.1:5000"
        "&connect_timeout=0.5&read_timeout=1.5&retry_budget=3",
        environ={},
    )
    assert (config.table, config.region, config.endpoint) == (
        "orders-prod",
        "eu-west-1",
        "http://127.0.0.1:5000",
    )
    assert (config.connect_timeout, config.read_timeout, config.retry.budget) == (0.5, 1.5, 3.0)


def test_dynamodb_region_comes_from_the_standard_aws_environment() -> None:
    env = {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert DynamoDBConfig.from_url("dynamodb://orders", environ=env).region == "eu-central-1"
    only_default = {"AWS_DEFAULT_REGION": "us-west-2"}
    assert DynamoDBConfig.from_url("dynamodb://orders", environ=only_default).region == "us-west-2"
    config = DynamoDBConfig.from_url("dynamodb://orders?region=ap-south-1", environ=env)
    assert config.region == "ap-south-1"
    assert config.endpoint is None
    assert config.retry.budget <= 5  # well inside API Gateway's 30 s


def test_dynamodb_endpoint_falls_back_to_the_sdks_endpoint_variables() -> None:
    """As the AWS SDKs: the service-specific variable first, then the global one."""
    both = {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9999",
    }
    assert DynamoDBConfig.from_url("dynamodb://orders", environ=both).endpoint == (
        "http://127.0.0.1:4566"
    )
    only_global = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9999"}
    config = DynamoDBConfig.from_url("dynamodb://orders", environ=only_global)
    assert config.endpoint == "http://127.0.0.1:9999"
    explicit = "dynamodb://orders?endpoint=http://127.0.0.1:5000"
    assert DynamoDBConfig.from_url(explicit, environ=both).endpoint == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "url",
    [
        "dynamodb://",
        "dynamodb://ab",
        "dynamodb://bad name",
        "dynamodb://orders/extra",
        "dynamodb://orders?endpont=http://x",
        "dynamodb://orders?region=a&region=b",
        "dynamodb://orders?endpoint=ftp://x",
        "dynamodb://orders?retry_budget=0",
        "dynamodb://orders?read_timeout=60",
        "dynamodb://orders?connect_timeout=soon",
    ],
)
def test_bad_dynamodb_urls_fail_fast(url: str) -> None:
    with pytest.raises(ValueError, match=r"dynamodb|DynamoDB|timeout|budget"):
        DynamoDBConfig.from_url(url, environ={"AWS_REGION": "us-east-1"})


def test_a_dynamodb_url_without_any_region_fails_fast() -> None:
    with pytest.raises(ValueError, match="region"):
        DynamoDBConfig.from_url("dynamodb://orders", environ={})


def test_open_store_builds_a_dynamodb_store_without_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    store = open_store("dynamodb://orders?endpoint=http://127.0.0.1:9")
    assert isinstance(store, DynamoDBStore)
    assert store.config.table == "orders"
    with pytest.raises(RuntimeError, match="before open"):
        _ = store.client


def test_the_sqlite_app_never_imports_the_dynamodb_client_stack() -> None:
    code = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.main import create_app\n"
        "create_app(Settings(store_url='sqlite:///:memory:'))\n"
        "print(sorted(m for m in ('aiodynamo', 'httpx', 'yarl') if m in sys.modules))\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GREET_DELAY": "abc"},
            "GREET_DELAY='abc' is invalid: input should be a valid number, unable to parse "
            "string as a number (allowed: a number from 0 to 25)",
        ),
        (
            {"GREET_DELAY": "26"},
            "GREET_DELAY='26' is invalid: input should be less than or equal to 25 "
            "(allowed: a number from 0 to 25)",
        ),
        (
            {"STORE_URL": "garbage"},
            "STORE_URL='garbage' is invalid: not a store URL; use sqlite:///<relative path>, "
            "sqlite:////<absolute path> or dynamodb://<table>[?region=<region>&endpoint=<url>]",
        ),
        (
            {"STORE_URL": "sqlite://host/x.db"},
            "STORE_URL='sqlite://host/x.db' is invalid: expected sqlite:///<path>, "
            "got 'sqlite://host/x.db'",
        ),
        (
            {"LOG_LEVEL": "LOUD"},
            "LOG_LEVEL='LOUD' is invalid: input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' "
            "or 'CRITICAL'",
        ),
        (
            {"MAX_BODY_BYTES": "0"},
            "MAX_BODY_BYTES='0' is invalid: input should be greater than or equal to 1 "
            "(allowed: a whole number of at least 1)",
        ),
        ({"IDENTITY_MODE": "jwt"}, "IDENTITY_MODE=jwt needs JWT_ISSUER and JWT_AUDIENCE"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == message
    assert caught.value.__cause__ is None  # no pydantic traceback chained to it


def test_every_bad_setting_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREET_DELAY", "-1")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [line.split("=")[0] for line in str(caught.value).splitlines()] == [
        "GREET_DELAY",
        "LOG_LEVEL",
    ]


def test_log_levels_are_accepted_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


def test_bad_lambda_settings_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREET_DELAY", "abc")
    with pytest.raises(ConfigError, match=r"^GREET_DELAY='abc' is invalid"):
        lambda_settings()


@pytest.mark.anyio
async def test_opening_a_file_that_is_not_sqlite_releases_the_connection(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    before = set(threading.enumerate())
    store = SQLiteStore(str(notes))
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        await store.open()
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)  # the connection's worker thread ends once it is closed
    assert set(threading.enumerate()) - before == set()
