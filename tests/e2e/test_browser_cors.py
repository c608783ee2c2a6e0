"""A real browser on another origin uses the API through the local gateway's CORS configuration,
and renders /docs with no internet.

Headless Chromium (Debian's ``chromium``, driven by Playwright) loads ``tests/e2e/browser/
orders_page.html`` from a second localhost origin; the page runs every operation with a bearer
token and writes what it saw into the page, which the test reads. The same page served from an
origin the configuration does not name must read nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.aws_lambda.factory import build_handler
from app.config import Settings
from app.main import create_app
from devtools import dev_issuer
from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.cors_configuration import CorsConfiguration
from tests.gateway_support import dev_authorizer, serving

PAGE = (Path(__file__).parent / "browser" / "orders_page.html").read_text()
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 30_000
APT_LOCK_WAIT = 600  # seconds another apt-get may hold apt's locks (e.g. a machine's updates)


def _install_chromium() -> str | None:
    """Debian's chromium, installed with apt-get when missing and we are root; else why not."""
    if shutil.which(CHROMIUM):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{CHROMIUM} is missing and apt-get cannot install it here (not root/Debian)"
    for command in (["update", "-qq"], ["install", "-y", "-qq", "chromium"]):
        done = _apt_get(command)
        if done.returncode != 0:
            return f"apt-get {' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return None if shutil.which(CHROMIUM) else f"apt-get installed no {CHROMIUM}"


def _apt_get(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    """``apt-get arguments``, waiting (up to APT_LOCK_WAIT seconds) while another apt-get or
    dpkg holds a lock: apt's own timeout for dpkg's lock (``DPkg::Lock::Timeout``), and a retry
    for the package lists' lock, which ``apt-get update`` takes without one."""
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}", *arguments]
    deadline = time.monotonic() + APT_LOCK_WAIT
    while True:
        done = subprocess.run(  # noqa: S603 - fixed commands
            command, env=environment, capture_output=True, text=True, timeout=900, check=False
        )
        if done.returncode == 0 or "Could not get lock" not in done.stderr:
            return done
        if time.monotonic() > deadline:
            return done
        time.sleep(2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the run (Playwright gives it a fresh temporary profile).

    Module-scoped, so that it stops before a later module's anyio runner holds the thread's
    event loop (Playwright's sync API runs a loop of its own)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    problem = _install_chromium()
    if problem:
        pytest.skip(f"NO BROWSER TEST: {problem}")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
        )
        yield launched
        launched.close()


def _page_server() -> Starlette:
    async def page(_: Any) -> HTMLResponse:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", page)])


@pytest.fixture
def origins(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(gateway URL, allowed page origin, other page origin), all on localhost."""
    with serving(_page_server()) as allowed, serving(_page_server()) as other:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, identity_mode="gateway"
        )
        config = GatewayConfig(
            handler_factory=partial(build_handler, settings),
            authorizer=dev_authorizer(tmp_path / "issuer", frozenset({dev_issuer.DEV_SCOPE})),
            cors=CorsConfiguration((allowed,)),
        )
        with serving(create_gateway(config)) as gateway:
            yield gateway, allowed, other


def _run_page(browser: Any, origin: str, api: str, token: str) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{origin}/?{urlencode({'api': api, 'token': token})}")
        page.wait_for_function("document.title === 'finished'", timeout=PAGE_TIMEOUT_MS)
        result: dict[str, Any] = json.loads(page.inner_text("#result"))
        return result
    finally:
        context.close()


def test_a_page_on_an_allowed_origin_uses_every_operation(
    browser: Any, origins: tuple[str, str, str], tmp_path: Path
) -> None:
    gateway, allowed, _ = origins
    token = dev_issuer.mint("browser-user", folder=tmp_path / "issuer")
    seen = _run_page(browser, allowed, gateway, token)
    assert seen["outcome"] == "done", seen
    steps = {s["step"]: s for s in seen["steps"]}
    create = steps["create"]
    assert create["status"] == 201
    assert create["location"] == f"/orders/{create['body']['id']}"
    assert create["etag"]
    assert steps["list"]["status"] == 200
    assert len(steps["list"]["body"]["orders"]) == 1
    assert 'rel="next"' in steps["list"]["link"]
    assert steps["next page"]["status"] == 200
    assert len(steps["next page"]["body"]["orders"]) == 1
    replace = steps["replace"]
    assert replace["status"] == 200
    assert replace["body"]["order"][0]["size"] == "medium"
    assert replace["etag"] not in (None, create["etag"])
    pay, again = steps["pay"], steps["pay again"]
    assert (pay["status"], pay["replayed"], pay["body"]["status"]) == (200, None, "paid")
    assert (again["status"], again["replayed"]) == (200, "true")
    assert again["body"] == pay["body"]
    assert steps["delete"]["status"] == 204
    assert steps["gone"]["status"] == 404


def test_a_page_on_another_origin_reads_nothing(
    browser: Any, origins: tuple[str, str, str], tmp_path: Path
) -> None:
    gateway, _, other = origins
    token = dev_issuer.mint("browser-user", folder=tmp_path / "issuer")
    seen = _run_page(browser, other, gateway, token)
    assert seen["outcome"] == "failed"
    assert seen["error"].startswith("TypeError"), seen  # the browser's "Failed to fetch"
    assert seen["steps"] == []


def _offline_title(browser: Any, url: str) -> str:
    """The API title Swagger UI renders at ``url`` with every request off localhost refused."""
    context = browser.new_context()
    try:
        page = context.new_page()
        refused: list[str] = []

        def offline(route: Any) -> None:
            if route.request.url.startswith("http://127.0.0.1:"):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        page.goto(url)
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert refused == []  # it never tried to leave the machine
        return str(title.inner_text())
    finally:
        context.close()


def test_docs_render_offline_locally_and_through_the_gateway(
    browser: Any, origins: tuple[str, str, str], tmp_path: Path
) -> None:
    gateway, _, _ = origins
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'local.db'}", greet_delay=0)
    with serving(create_app(settings)) as local:
        for base in (local, gateway):
            assert _offline_title(browser, f"{base}/docs").startswith("CoffeeMesh Orders API")
            assert httpx.get(f"{base}/redoc").status_code == 404


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("apt-get"), reason="apt-get runs only as root/Debian"
)
def test_apt_get_waits_while_another_apt_get_holds_its_lock() -> None:
    """The browser's installation waits for a lock another apt-get or dpkg holds (a machine's
    own updates), instead of giving up on the browser."""
    held = 3.0
    lock = os.open("/var/lib/dpkg/lock-frontend", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX)  # what apt-get and dpkg take
        release = threading.Timer(held, fcntl.lockf, (lock, fcntl.LOCK_UN))
        release.start()
        started = time.monotonic()
        done = _apt_get(["check"])  # takes the same lock
        waited = time.monotonic() - started
        release.join()
    finally:
        os.close(lock)
    assert done.returncode == 0, done.stderr
    assert waited >= held - 0.5
