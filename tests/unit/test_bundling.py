"""Handler dependencies without Docker: requirements.txt installed by real pip for Lambda, offline.

pip runs for real, against a local wheelhouse (``PIP_NO_INDEX`` + ``PIP_FIND_LINKS``) of hand-built
wheels: a pure-Python one, one with an arm64 manylinux tag and one built for x86_64 only. So the platform
selection, the cache and the error for a missing wheel are proven without the network; tests/consumer
installs real packages from the registry (tests/consumer/test_bundling_e2e.py).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from aws_cdk import Stack
from serverless_patterns import ServerlessFunction
from serverless_patterns.function.bundling import (
    LAMBDA_PLATFORMS,
    has_requirements,
    install_requirements,
    pip_command,
    requirements_key,
)

from tests.harness.synth import FIXTURES, new_app

HANDLER = "import tinydep\n\ndef handler(event, context):\n    return tinydep.VALUE\n"


def _wheel(wheelhouse: Path, name: str, tag: str, files: dict[str, str]) -> None:
    """A minimal valid wheel: the files, METADATA, WHEEL with ``tag`` and RECORD."""
    dist_info = f"{name}-1.0.dist-info"
    members = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: {tag}\n",
    }
    record = "".join(f"{member},,\n" for member in [*members, f"{dist_info}/RECORD"])
    with zipfile.ZipFile(wheelhouse / f"{name}-1.0-{tag}.whl", "w") as archive:
        for member, text in {**members, f"{dist_info}/RECORD": record}.items():
            archive.writestr(member, text)


@pytest.fixture
def offline_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees only a local wheelhouse; the cache is a fresh folder. Returns the wheelhouse."""
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    _wheel(wheelhouse, "tinydep", "py3-none-any", {"tinydep/__init__.py": "VALUE = 'pure'\n"})
    _wheel(wheelhouse, "armdep", "cp314-cp314-manylinux_2_28_aarch64", {"armdep/__init__.py": "X = 1\n"})
    _wheel(wheelhouse, "x86dep", "cp314-cp314-manylinux_2_17_x86_64", {"x86dep/__init__.py": "X = 1\n"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("SERVERLESS_PATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    return wheelhouse


def _code(tmp_path: Path, requirements: str) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "handler.py").write_text(HANDLER)
    (code / "requirements.txt").write_text(requirements)
    (code / "tests").mkdir()
    (code / "tests" / "test_handler.py").write_text("")  # excluded from every asset
    return code


def _asset_of(code: Path) -> Path:
    """Synthesize a ServerlessFunction of ``code``; the folder of its code asset."""
    app = new_app()
    ServerlessFunction(Stack(app, "Bundled"), "Fn", code_path=code)
    assembly = Path(app.synth().directory)
    (asset,) = [folder for folder in assembly.glob("asset.*") if (folder / "handler.py").is_file()]
    return asset


def test_requirements_are_installed_for_lambda_into_the_asset_with_the_code(
    offline_pip: Path, tmp_path: Path
) -> None:
    code = _code(tmp_path, "tinydep==1.0\narmdep==1.0  # a binary wheel for arm64\n")
    asset = _asset_of(code)
    assert (asset / "tinydep" / "__init__.py").read_text() == "VALUE = 'pure'\n"
    assert (asset / "armdep" / "__init__.py").is_file()
    assert (asset / "armdep-1.0.dist-info" / "WHEEL").is_file()
    assert (asset / "handler.py").read_text() == HANDLER
    assert not (asset / "tests").exists(), "the asset excludes apply to the code copied in"
    assert not list(asset.rglob("*.pyc")), "pip must not compile for the build machine's Python"
    assert not (asset / ".complete").exists(), "the cache's marker stays in the cache"


def test_a_requirement_without_an_arm64_wheel_fails_the_synth_naming_it(
    offline_pip: Path, tmp_path: Path
) -> None:
    code = _code(tmp_path, "tinydep==1.0\nx86dep==1.0\n")
    with pytest.raises(ValueError, match=r"no wheel of 'x86dep==1\.0' for Lambda \(CPython 3\.14, arm64"):
        ServerlessFunction(Stack(new_app(), "Bundled"), "Fn", code_path=code)


def test_an_unknown_requirement_fails_naming_it_and_caches_nothing(offline_pip: Path, tmp_path: Path) -> None:
    code = _code(tmp_path, "no-such-dependency>=2\n")
    with pytest.raises(ValueError, match=r"no wheel of 'no-such-dependency>=2'"):
        install_requirements(code, "3.14")
    cached = [entry for entry in (tmp_path / "cache" / "requirements").iterdir() if entry.is_dir()]
    assert cached == [], "a failed install leaves no cache entry behind"


def test_the_install_is_cached_by_the_requirements_content(offline_pip: Path, tmp_path: Path) -> None:
    code = _code(tmp_path, "tinydep==1.0\n")
    first = install_requirements(code, "3.14")
    shutil.rmtree(offline_pip)  # no wheel is reachable any more: only the cache can answer
    assert install_requirements(code, "3.14") == first
    assert first.name == requirements_key("tinydep==1.0\n", "3.14")
    assert requirements_key("tinydep==1.0\n", "3.13") != first.name, "another Python, another install"
    (code / "requirements.txt").write_text("tinydep==1.0\narmdep==1.0\n")
    with pytest.raises(ValueError, match=r"no wheel of 'tinydep==1\.0'"):
        install_requirements(code, "3.14")  # changed requirements: pip runs again (and finds nothing)


def test_pip_is_asked_for_lambda_wheels_only() -> None:
    command = pip_command(Path("requirements.txt"), Path("out"), "3.14")
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--implementation") + 1] == "cp"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(LAMBDA_PLATFORMS)
    assert platforms[0] == "manylinux2014_aarch64" and "manylinux_2_34_aarch64" in platforms
    assert not [tag for tag in platforms if "x86_64" in tag]


def test_without_requirements_the_asset_is_the_folder_as_is(tmp_path: Path) -> None:
    assert not has_requirements(FIXTURES / "visit_counter")
    only_comments = tmp_path / "code"
    shutil.copytree(FIXTURES / "visit_counter", only_comments)
    (only_comments / "requirements.txt").write_text("# nothing yet\n\n")
    assert not has_requirements(only_comments)
