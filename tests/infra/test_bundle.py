"""The arm64 Lambda asset: right platform and bytecode, nothing extra, small, reproducible."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.contract.certificates import CERTIFI_CAPATH
from infra.asset import BUNDLER_MODULES, LAMBDA_ARM64, asset_hash, build_bundle
from infra.capath import hashed_names, pem_certificates
from infra.interpreter import find_python
from tests import tls_probe
from tests.certificates import leaf_certificate, new_key, pem, subject_of, write_key
from tests.infra.conftest import Synthesized

EM_X86_64, EM_AARCH64 = 62, 183
MAX_ZIPPED_BYTES = 5 * 1024 * 1024
NOT_SHIPPED = ("boto3", "botocore", "aiosqlite", "uvicorn", "pytest", "moto", "aws_cdk",
               "cdk_nag", "cfnlint", "mypy", "ruff", "hypothesis", "aiohttp", "jsii",
               "fastapi_offline", "playwright")  # fmt: skip
UNCHECKED_HASH_FLAGS = 0b01  # PEP 552: hash-based, source not checked


@pytest.fixture(scope="module")
def bundle(dev: Synthesized) -> Path:
    """The asset the dev synthesis staged (built by the local bundler, not by a test helper)."""
    (asset,) = dev.asset_dirs()
    return asset


def _elf_machine(path: Path) -> int | None:
    head = path.read_bytes()[:20]
    if head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def test_compiled_extensions_are_aarch64_cp313(bundle: Path) -> None:
    extensions = sorted(bundle.rglob("*.so"))
    assert extensions, "pydantic-core at least is compiled"
    for extension in extensions:
        assert _elf_machine(extension) == EM_AARCH64, extension
        assert f".cpython-{LAMBDA_ARM64.abi_tag[2:]}-aarch64-linux-gnu.so" in extension.name


def test_no_x86_64_file(bundle: Path) -> None:
    for path in bundle.rglob("*"):
        assert "x86_64" not in path.name, path
        if path.is_file():
            assert _elf_machine(path) in {None, EM_AARCH64}, path


def test_no_tests_caches_or_build_only_packages(bundle: Path) -> None:
    names = {p.name for p in bundle.rglob("*")}
    assert not names & {"tests", "test", ".pytest_cache", ".mypy_cache", "bin", "RECORD"}
    top = {p.name.split("-")[0] for p in bundle.iterdir()}
    assert not top & set(NOT_SHIPPED)
    caches = [p for p in bundle.rglob("__pycache__") if p.parent != bundle / "app"]
    assert all(c.is_relative_to(bundle / "app") for c in caches), caches


def test_bytecode_is_unchecked_hash_for_cpython_313(bundle: Path) -> None:
    python = find_python(LAMBDA_ARM64.python_version)
    magic = bytes.fromhex(
        subprocess.run(  # noqa: S603
            [python, "-I", "-c", "import importlib.util as u; print(u.MAGIC_NUMBER.hex())"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    compiled = list(bundle.rglob("*.pyc"))
    assert len(compiled) > 100
    for pyc in compiled:
        header = pyc.read_bytes()[:8]
        assert header[:4] == magic, pyc
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS, pyc
    # Dependencies ship bytecode only; the app ships its sources and their bytecode.
    assert not [p for p in bundle.rglob("*.py") if not p.is_relative_to(bundle / "app")]
    for source in (bundle / "app").rglob("*.py"):
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert cached.exists(), source


def test_app_package_and_metadata_are_shipped(bundle: Path) -> None:
    assert (bundle / "app" / "main.py").exists()
    assert (bundle / "app" / "store" / "dynamodb" / "table.py").exists()
    assert sorted(bundle.glob("pydantic-*.dist-info/METADATA"))
    assert sorted(bundle.glob("opentelemetry_api-*.dist-info/entry_points.txt"))


def _roots(bundle: Path) -> list[bytes]:
    return pem_certificates((bundle / "certifi" / "cacert.pem").read_text(encoding="utf-8"))


def test_certifi_roots_ship_as_a_hashed_directory(bundle: Path) -> None:
    """One file per root of the bundle's cacert.pem (which stays), named by its subject hash."""
    roots = _roots(bundle)
    assert len(roots) > 100
    directory = bundle / "certifi" / CERTIFI_CAPATH
    shipped = {p.name: pem_certificates(p.read_text()) for p in directory.iterdir()}
    assert shipped == {name: [root] for name, root in zip(hashed_names(roots), roots, strict=True)}


def _probe(python: str, bundle: Path, cases: list[dict[str, str]], tmp_path: Path) -> Any:
    """``tests/tls_probe.py`` run by ``python`` with only ``bundle`` on sys.path, and neither
    ``SSL_CERT_FILE`` nor ``SSL_CERT_DIR`` (which replace certifi) set, as on Lambda."""
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(cases))
    env = {k: v for k, v in os.environ.items() if k not in {"SSL_CERT_FILE", "SSL_CERT_DIR"}}
    done = subprocess.run(  # noqa: S603 - a fixed argv
        [python, "-I", "-S", "-B", tls_probe.__file__, str(bundle), str(cases_file)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_the_store_reads_each_root_from_the_directory_at_a_handshake(
    bundle: Path, tmp_path: Path
) -> None:
    """In the bundle's Python, the store's context holds no root when created. A server whose
    leaf names a root as issuer (signed by another key: no real root's key is at hand, so the
    handshake fails) makes OpenSSL read that very root from the directory: for every root."""
    roots = _roots(bundle)
    signer, leaf_key = new_key(), new_key()
    key_file = str(write_key(leaf_key, tmp_path / "leaf.key"))
    cases = []
    for index, root in enumerate(roots):
        leaf = tmp_path / f"leaf{index}.pem"
        leaf.write_bytes(pem(leaf_certificate(subject_of(root), signer, leaf_key)))
        cases.append({"leaf": str(leaf), "key": key_file, "root": root.hex()})

    found = _probe(find_python(LAMBDA_ARM64.python_version), bundle, cases, tmp_path)

    assert Path(found["cafile"]).parent == bundle / "certifi"
    assert found["created"]["x509_ca"] == 0
    assert not found["httpx_imported"]
    refused_after_reading = {"error": "SSLCertVerificationError", "loaded": True}
    assert found["cases"] == [refused_after_reading] * len(roots)


def test_without_the_directory_the_store_loads_every_root(bundle: Path, tmp_path: Path) -> None:
    """The same bundle less ``certifi/capath``: cacert.pem is loaded whole, as before."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle / "app", copy / "app")
    shutil.copytree(
        bundle / "certifi", copy / "certifi", ignore=shutil.ignore_patterns(CERTIFI_CAPATH)
    )
    found = _probe(find_python(LAMBDA_ARM64.python_version), copy, [], tmp_path)
    assert found["created"]["x509_ca"] == len(_roots(bundle))


def test_every_infra_module_the_bundler_runs_is_hashed() -> None:
    """Changing the bundler's code rebuilds the asset (interpreter.py and uv.py only find the
    tools it runs)."""
    code = "import sys, infra.asset; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(  # noqa: S603 - a fixed argv
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    modules = done.stdout.split()
    imported = {m.removeprefix("infra.") + ".py" for m in modules if m.startswith("infra.")}
    assert imported - {"interpreter.py", "uv.py"} <= set(BUNDLER_MODULES)
    assert "capath.py" in imported


def test_zipped_asset_is_under_5_mb(bundle: Path, tmp_path: Path) -> None:
    archive = Path(shutil.make_archive(str(tmp_path / "asset"), "zip", bundle))
    with zipfile.ZipFile(archive) as zipped:
        unzipped = sum(i.file_size for i in zipped.infolist())
    zipped_size = archive.stat().st_size
    assert zipped_size <= MAX_ZIPPED_BYTES, (zipped_size, unzipped)


def test_unchanged_inputs_give_the_same_asset(dev: Synthesized, prod: Synthesized) -> None:
    # CDK derives the S3 key from our input hash (asset_hash) and the bundling options.
    keys = {s.only("AWS::Lambda::Function")[1]["Properties"]["Code"]["S3Key"] for s in (dev, prod)}
    assert len(keys) == 1
    (asset,) = dev.asset_dirs()
    assert keys == {asset.name.removeprefix("asset.") + ".zip"}


def test_asset_hash_follows_its_inputs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "app", project / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("uv.lock", "pyproject.toml"):
        shutil.copyfile(root / name, project / name)
    first = asset_hash(LAMBDA_ARM64, project)
    assert first == asset_hash(LAMBDA_ARM64, root)  # only sources count, not caches
    assert asset_hash(LAMBDA_ARM64, project) == first
    (project / "app" / "main.py").write_text((project / "app/main.py").read_text() + "\n# x\n")
    assert asset_hash(LAMBDA_ARM64, project) != first
    assert asset_hash(LAMBDA_ARM64, root) != asset_hash(
        type(LAMBDA_ARM64)("x86_64-manylinux_2_28", "3.13"), root
    )


def test_rebuilding_gives_identical_files(bundle: Path, tmp_path: Path) -> None:
    again = build_bundle(tmp_path / "again", LAMBDA_ARM64)
    first = {p.relative_to(bundle): p for p in bundle.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p for p in again.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    changed = [
        name for name, path in first.items() if path.read_bytes() != second[name].read_bytes()
    ]
    assert changed == []
