"""Handler dependencies from the real registry, installed by the installed package, without Docker.

A user's code folder with a ``requirements.txt`` holding one pure-Python package (``six``) and one with
binary wheels (``orjson``) is synthesized with the wheel installed in the consumer venv: pip fetches
arm64 manylinux wheels for CPython 3.14 into the asset. A package that publishes no wheel (``docopt``,
sdist only) fails the synth naming it. Downloads are cached under ``.consumer-venvs/requirements-cache``
(what a user's ``~/.cache/serverless-patterns`` is), so a second synth runs with pip offline.
The asset sizes are printed (``pytest -s``) for the issue's closing note.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.consumer.consumer_env import CACHE, ConsumerVenv, build_wheel, consumer_venv, isolated_env

#: Pins of the two demonstration packages (each has wheels for cp314 manylinux aarch64 or py3).
PURE = "six==1.17.0"
BINARY = "orjson==3.11.4"
NO_WHEEL = "docopt==0.6.2"

HANDLER = """import orjson
import six


def handler(event, context):
    return {"statusCode": 200, "body": orjson.dumps({"six": six.__version__}).decode()}
"""

SYNTH = """
import json, sys, zipfile, io
from pathlib import Path
from aws_cdk import App, Stack
from serverless_patterns import ServerlessFunction

app = App(outdir=sys.argv[2])
ServerlessFunction(Stack(app, "Deps"), "Fn", code_path=sys.argv[1])
assembly = Path(app.synth().directory)
(asset,) = [folder for folder in assembly.glob("asset.*") if (folder / "handler.py").is_file()]
files = sorted(str(path.relative_to(asset)) for path in asset.rglob("*") if path.is_file())
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for name in files:
        archive.write(asset / name, name)
size = sum((asset / name).stat().st_size for name in files)
print(json.dumps({"files": files, "bytes": size, "zip_bytes": len(buffer.getvalue())}))
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsumerVenv]:
    yield consumer_venv(build_wheel(tmp_path_factory.mktemp("wheel")))


def _synth(
    venv: ConsumerVenv, tmp_path: Path, requirements: str, **env: str
) -> subprocess.CompletedProcess[str]:
    code = tmp_path / "code"
    code.mkdir(parents=True)
    (code / "handler.py").write_text(HANDLER)
    (code / "requirements.txt").write_text(requirements)
    variables = {
        "SERVERLESS_PATTERNS_CACHE_DIR": str(CACHE / "requirements-cache"),
        "CDK_VALIDATION": "false",
    }
    return subprocess.run(
        [str(venv.python), "-c", SYNTH, str(code), str(tmp_path / "cdk.out")],
        cwd=tmp_path,
        env=isolated_env() | variables | env,
        capture_output=True,
        text=True,
        check=False,
    )


def _asset(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr[-3000:]
    asset: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return asset


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        (PURE, {"six.py"}),
        (BINARY, {"orjson/orjson.cpython-314-aarch64-linux-gnu.so"}),
        (f"{PURE}\n{BINARY}\n", {"six.py", "orjson/orjson.cpython-314-aarch64-linux-gnu.so"}),
    ],
    ids=["pure", "binary", "both"],
)
def test_requirements_land_in_the_asset_as_lambda_arm64_wheels(
    venv: ConsumerVenv, tmp_path: Path, requirements: str, expected: set[str]
) -> None:
    asset = _asset(_synth(venv, tmp_path, requirements))
    files = set(asset["files"])  # type: ignore[call-overload]
    assert expected <= files
    assert {"handler.py", "requirements.txt"} <= files
    assert not [name for name in files if name.endswith(".pyc") or "x86_64" in name]
    print(f"\nasset with {requirements.strip()!r}: {asset['bytes']} bytes, {asset['zip_bytes']} zipped")


def test_a_second_synth_needs_no_network(venv: ConsumerVenv, tmp_path: Path) -> None:
    """Once installed, the same requirements come from the cache: the second synth's pip has no index."""
    first = _asset(_synth(venv, tmp_path / "first", f"{PURE}\n{BINARY}\n"))
    again = _asset(_synth(venv, tmp_path / "again", f"{PURE}\n{BINARY}\n", PIP_NO_INDEX="1"))
    assert again == first


def test_a_package_without_a_wheel_fails_the_synth_naming_it(venv: ConsumerVenv, tmp_path: Path) -> None:
    result = _synth(venv, tmp_path, f"{PURE}\n{NO_WHEEL}\n")
    assert result.returncode != 0
    assert "ValueError" in result.stderr
    assert f"no wheel of '{NO_WHEEL}' for Lambda (CPython 3.14, arm64" in result.stderr
