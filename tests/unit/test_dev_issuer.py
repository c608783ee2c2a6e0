"""The development issuer's tokens work in IDENTITY_MODE=jwt through a file: JWKS."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from devtools.dev_issuer import env, mint, signing_key
from tests.support import order_body

pytestmark = pytest.mark.anyio


async def test_minted_tokens_are_accepted_and_scope_orders(tmp_path: Path) -> None:
    folder = tmp_path / "issuer"
    settings = Settings.model_validate(
        {"store_url": f"sqlite:///{tmp_path / 'o.db'}", **_lower(env(folder))}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        alice = {"Authorization": f"Bearer {mint('alice', folder=folder)}"}
        bob = {"Authorization": f"Bearer {mint('bob', folder=folder)}"}
        oid = (await http.post("/orders", json=order_body(), headers=alice)).json()["id"]
        assert (await http.get(f"/orders/{oid}", headers=alice)).status_code == 200
        assert (await http.get(f"/orders/{oid}", headers=bob)).status_code == 404
        expired = {"Authorization": f"Bearer {mint('alice', ttl=-120, folder=folder)}"}
        assert (await http.get("/orders", headers=expired)).status_code == 401


def test_the_key_is_created_once_and_private(tmp_path: Path) -> None:
    first_key, first_kid = signing_key(tmp_path)
    second_key, second_kid = signing_key(tmp_path)
    assert first_kid == second_kid
    assert first_key.private_numbers() == second_key.private_numbers()
    assert stat.S_IMODE((tmp_path / "signing-key.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("refusal", [{"stage": "prod"}, {"aws_lambda_function_name": "orders"}])
def test_a_file_jwks_is_refused_where_it_could_be_deployed(
    tmp_path: Path, refusal: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="development issuer"):
        Settings.model_validate({**_lower(env(tmp_path)), **refusal})


def _lower(variables: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in variables.items()}
