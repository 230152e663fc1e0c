"""environment.yml (conda) and requirements.txt (pip) name the same packages and versions."""

from __future__ import annotations

import re
from importlib import metadata

from conftest import ROOT


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _yaml_pip_section():
    lines, inside = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"\s*-\s*pip:\s*$", line):
            inside = True
            continue
        if inside:
            if re.match(r"\s{6,}-", line):
                lines.append(line)
            elif line.strip():
                inside = False
    return lines


def test_requirements_are_pinned():
    lines = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [l for l in lines if l]
    assert lines and all("==" in l for l in lines), f"unpinned requirements: {[l for l in lines if '==' not in l]}"
    pins = _pins(lines)
    for name in ("tensorflow", "keras", "nbgrader", "jupyterlab", "numpy", "matplotlib"):
        assert name in pins, f"{name} must be pinned"
    assert pins["tensorflow"].startswith("2.21.") and pins["keras"].startswith("3.")
    assert pins["nbgrader"] == "0.9.6" and pins["jupyterlab"].startswith("4.") and pins["numpy"].startswith("2.")


def test_environment_yml_agrees_with_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = _pins(_yaml_pip_section())
    assert env == req


def test_installed_versions_match_the_pins():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    wrong = {n: (v, metadata.version(n)) for n, v in req.items() if metadata.version(n) != v}
    assert not wrong, f"installed versions differ from requirements.txt: {wrong}"
