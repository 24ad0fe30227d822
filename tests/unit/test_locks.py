"""The hash locks: they pin what the requirements and pyproject.toml declare, and every install takes them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scripts.locks import LOCKS, REPO, changes, closure, locked, problems

MAKEFILES = ("Makefile", "layers/shared/Makefile")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The files the lock check reads, copied, so a test can break one."""
    for relative in ["pyproject.toml", *(lock.source for lock in LOCKS), *(lock.path for lock in LOCKS)]:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, target)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_locks_agree_with_the_requirements_pyproject_and_the_layer() -> None:
    assert problems() == []


def test_every_lock_pins_each_entry_with_a_hash_and_the_layer_lock_targets_lambda() -> None:
    for lock in LOCKS:
        pins = locked(REPO / lock.path)
        assert pins, lock.path
        text = (REPO / lock.path).read_text()
        assert text.count("--hash=sha256:") >= len(pins), lock.path
    layer = (REPO / "layers/shared/requirements.lock").read_text()
    assert "boto3==" not in layer and "botocore==" not in layer  # the Lambda runtime's, never shadowed


def test_a_requirement_changed_without_make_lock_is_reported(repo_copy: Path) -> None:
    # Given a layer requirement moved on in requirements.txt and pyproject.toml, but no `make lock`
    _edit(repo_copy / "layers/shared/requirements.txt", "httpx==0.28.1", "httpx==0.28.2")
    _edit(repo_copy / "pyproject.toml", '"httpx==0.28.1"', '"httpx==0.28.2"')

    found = problems(repo_copy)

    assert any(
        re.search(r"requirements\.lock pins httpx 0\.28\.1, .* asks for 0\.28\.2", p) for p in found
    ), found


def test_pyproject_drifting_from_the_layer_requirements_is_reported(repo_copy: Path) -> None:
    _edit(repo_copy / "pyproject.toml", '"pydantic==2.14.4"', '"pydantic==2.14.5"')

    found = problems(repo_copy)

    assert any(p.startswith("pyproject.toml declares") and "2.14.5" in p for p in found), found


def test_the_dev_lock_testing_other_versions_than_the_layer_ships_is_reported(repo_copy: Path) -> None:
    _edit(repo_copy / "requirements-dev.lock", "\npydantic-core==2.50.5 ", "\npydantic-core==2.50.4 ")

    assert "requirements-dev.lock tests pydantic-core 2.50.4, the layer ships 2.50.5" in problems(repo_copy)


def test_an_entry_without_a_hash_is_reported(repo_copy: Path) -> None:
    lock = repo_copy / "requirements-sam.lock"
    lock.write_text(lock.read_text() + "extra-package==1.0\n")

    assert "requirements-sam.lock: extra-package==1.0 has no hash" in problems(repo_copy)


def test_every_pip_install_in_the_makefiles_checks_hashes_from_a_lock() -> None:
    # Recipes continued with a backslash are joined first, so an option on the next line counts.
    installs = [
        (makefile, line)
        for makefile in MAKEFILES
        for line in (REPO / makefile).read_text().replace("\\\n", " ").splitlines()
        if line.startswith("\t") and re.search(r"\bpip\b.*\binstall\b|\$\((PIP|PIP_LOCKED)\)", line)
    ]  # recipe lines only: a recipe starts with a tab
    assert len(installs) >= 4  # locked_venv's two (the lock's own pip first, then the lock), the layer's two
    variables = {
        name: value
        for makefile in MAKEFILES
        for name, value in re.findall(r"^(\w+)\s*:?=\s*(.*)$", (REPO / makefile).read_text(), re.M)
    }
    for makefile, line in installs:
        expanded = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), line)
        expanded = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), expanded)
        assert "--require-hashes" in expanded, (makefile, line)
        assert re.search(r"-r (\S+\.lock|\$\(2\))$", expanded), (makefile, line)  # $(2): locked_venv's lock


def test_every_venv_is_made_by_locked_venv_which_installs_the_locks_own_pip_first() -> None:
    # The interpreter's bundled pip (23.2 with Python 3.11) refuses requirements-sam.lock; the pip the
    # lock pins accepts it, so that pip goes in first, from the lock's own hashed lines.
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("define locked_venv\n")[1].split("endef")[0].splitlines()

    assert [line.split()[0] for line in recipe] == [
        "$(PYTHON)",
        "awk",
        "$(1)/bin/$(PIP_LOCKED)",
        "$(1)/bin/$(PIP_LOCKED)",
        "touch",
    ]
    assert makefile.count("-m venv") == 1  # only in locked_venv
    assert len(re.findall(r"\t\$\(call locked_venv,", makefile)) == 5  # .venv, -sam, -checkov, -sbom, -uv
    for lock in REPO.glob("requirements-*.lock"):
        assert re.search(
            r"^pip==\S+ \\\n(    --hash=sha256:\w+ \\\n)*    --hash=sha256:\w+\n", lock.read_text(), re.M
        ), lock


def test_make_lock_reports_each_change_as_package_old_new() -> None:
    before = {("httpx", ""): "0.28.1", ("idna", ""): "3.20", ("colorama", "sys_platform == 'win32'"): "0.4.6"}
    after = {
        ("httpx", ""): "0.28.2",
        ("colorama", "sys_platform == 'win32'"): "0.4.6",
        ("sniffio", ""): "1.3.1",
    }

    assert changes(before, after) == [
        "  httpx: 0.28.1 -> 0.28.2",
        "  idna: 3.20 -> (removed)",
        "  sniffio: (none) -> 1.3.1",
    ]


def test_the_boto3_part_of_the_dev_lock_is_boto3_and_what_it_needs_with_hashes() -> None:
    part = closure(REPO / "requirements-dev.lock", {"boto3"})

    names = {line.split("==")[0] for line in part.splitlines() if line[:1].isalnum()}
    assert names == {"boto3", "botocore", "jmespath", "python-dateutil", "s3transfer", "six", "urllib3"}
    assert part.count("--hash=sha256:") >= len(names)
