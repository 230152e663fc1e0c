"""The install groups agree everywhere: pyproject.toml's ranges (``pip install .[group]``), the pins in
requirements/<group>.txt (what ``make`` installs), requirements.txt (everything) and environment.yml (conda)."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli comes with JupyterLab there
    import tomli as tomllib

PROJECT = "grader-utils"
# Each group is a requirements file; `student` is pyproject's [project] dependencies, the others its extras.
GROUPS = ("student", "instructor", "hub", "test")
PIN = re.compile(r"([A-Za-z0-9_.\-]+)==([^\s;]+)")


def _file_group(path: Path) -> tuple[dict[str, str], set[Path]]:
    """A requirements file's own pins {name: version} and the files it includes with ``-r``."""
    pins: dict[str, str] = {}
    includes: set[Path] = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            includes.add((path.parent / line[2:].strip()).resolve())
            continue
        m = PIN.fullmatch(line)
        assert m, f"{path.relative_to(ROOT)}: {raw!r} is not pinned as name==version"
        name = canonicalize_name(m.group(1))
        assert name not in pins, f"{path.relative_to(ROOT)} pins {name} twice"
        pins[name] = m.group(2)
    return pins, includes


def _file_closure(path: Path) -> dict[str, str]:
    """Every pin ``pip install -r path`` installs, following its ``-r`` includes."""
    pins, includes = _file_group(path)
    out = dict(pins)
    for inc in includes:
        for name, version in _file_closure(inc).items():
            assert out.setdefault(name, version) == version, f"{name} pinned to two versions under {path.name}"
    return out


def _pyproject_groups() -> tuple[dict[str, dict[str, Requirement]], dict[str, set[str]]]:
    """pyproject's groups: {group: {name: requirement}} and {group: the groups it includes as grader_utils[...]}."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    raw = {"student": project["dependencies"], **project.get("optional-dependencies", {})}
    groups: dict[str, dict[str, Requirement]] = {}
    includes: dict[str, set[str]] = {}
    for group, lines in raw.items():
        groups[group], includes[group] = {}, set() if group == "student" else {"student"}
        for line in lines:
            req = Requirement(line)
            name = canonicalize_name(req.name)
            if name == PROJECT:
                includes[group] |= req.extras
            else:
                assert str(req.specifier), f"pyproject.toml's {group} group: {line!r} needs a version range"
                groups[group][name] = req
    return groups, includes


def _pyproject_closure(
    group: str, groups: dict[str, dict[str, Requirement]], includes: dict[str, set[str]]
) -> dict[str, Requirement]:
    out = dict(groups[group])
    for inc in includes[group]:
        out.update(_pyproject_closure(inc, groups, includes))
    return out


def _environment_yml_pins() -> dict[str, str]:
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    (pip_section,) = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    pins: dict[str, str] = {}
    for line in pip_section:
        if line.startswith("-e"):
            continue
        m = PIN.fullmatch(line.strip())
        assert m, f"environment.yml: {line!r} is not pinned as name==version"
        pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_install_groups_agree() -> None:
    """Per group: pyproject.toml names the same packages as requirements/<group>.txt, and with its includes
    installs the same set; every pin lies inside pyproject's range; no package is pinned in two groups;
    requirements.txt and environment.yml are the full pin set."""
    groups, includes = _pyproject_groups()
    assert set(groups) == set(GROUPS), f"pyproject.toml's groups {sorted(groups)} != requirement files {GROUPS}"
    files = {g: ROOT / "requirements" / f"{g}.txt" for g in GROUPS}
    where: dict[str, str] = {}
    for group, path in files.items():
        pins, _ = _file_group(path)
        assert set(pins) == set(groups[group]), (
            f"{group}: pyproject.toml names {sorted(groups[group])}, {path.name} pins {sorted(pins)}"
        )
        for name in pins:
            assert name not in where, f"{name} is pinned in both {where[name]} and {group}"
            where[name] = group
        closure = _file_closure(path)
        wanted = _pyproject_closure(group, groups, includes)
        assert closure.keys() == wanted.keys(), (
            f"pip install -r {path.name} installs {sorted(closure)}, pip install .[{group}] asks for {sorted(wanted)}"
        )
        outside = {n: (v, str(wanted[n].specifier)) for n, v in closure.items() if v not in wanted[n].specifier}
        assert not outside, f"{path.name}: pins outside pyproject.toml's ranges: {outside}"

    everything = _file_closure(ROOT / "requirements.txt")
    assert everything.keys() == where.keys(), "requirements.txt must include every group"
    conda = _environment_yml_pins()
    differ = {
        n: (conda.get(n, "missing"), everything.get(n, "missing"))
        for n in conda.keys() | everything.keys()
        if conda.get(n) != everything.get(n)
    }
    assert not differ, f"environment.yml differs from requirements.txt (conda, pip): {differ}"
    for name in ("tensorflow", "keras", "numpy", "matplotlib", "nbgrader", "jupyterlab"):
        assert where.get(name) == "student", f"{name} belongs to the student group (pip install .)"


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def test_installed_versions_match_the_pins() -> None:
    """The test run's own virtualenv has every group at its pinned version (make test installs them all)."""
    pins = _file_closure(ROOT / "requirements.txt")
    wrong = {n: (v, _installed(n)) for n, v in pins.items() if _installed(n) != v}
    assert not wrong, f"installed versions differ from requirements.txt: {wrong}"
