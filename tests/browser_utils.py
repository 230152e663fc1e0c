"""Helpers for the end-to-end browser tests: a real JupyterLab server, Debian's Chromium, screenshots.

Nothing here is a mock: ``lab_server`` starts ``jupyter lab`` from this virtualenv on a free localhost port
with a random token, and ``launch_chromium`` starts the system's Chromium through Playwright (Playwright's
own browser downloads are never used, so the tests need no network).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}

# Chromium as root needs --no-sandbox; the rest keep it from reaching for Google's hosts (there is no network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# JupyterLab user settings for a quiet, predictable UI: no news/update toasts over the screenshots, and every
# cell in the DOM (the default windowing only renders cells near the viewport).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_executable() -> str:
    """Path of Debian's Chromium. Missing Chromium is a failure, not a skip: ``make install-test`` installs it."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed: run `make install-test` as root (it apt-installs the Debian package "
        "chromium) or `sudo apt-get install chromium`"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab`` process."""

    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def page_url(self, path: str) -> str:
        """``path`` (e.g. ``lab/tree/x.ipynb`` or ``formgrader``) with the token for a first visit."""
        sep = "&" if "?" in path else "?"
        return f"{self.url}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _wait_until_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"{server.url}/api/status", headers={"Authorization": f"token {server.token}"})
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"jupyter lab exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer within {timeout:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def lab_server(root: Path, home: Path, timeout: float = 90) -> Iterator[LabServer]:
    """Run ``jupyter lab`` on ``root`` (also its working directory, where nbgrader's extensions read
    ``nbgrader_config.py``). Jupyter's config, runtime and settings live under ``home``, away from the user's."""
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "lab-settings"
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(
        os.environ,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        NBGRADER_EXCHANGE_ROOT=str(home / "exchange"),
    )
    cmd = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = home / "jupyter-lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log, process=process)
    try:
        _wait_until_ready(server, timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def save_screenshot(page, name: str, out_dir: Path, readme: bool = False, docs_dir: Path = SCREENSHOT_DIR) -> Path:
    """Screenshot of the page's viewport as ``out_dir/name.png``. With ``UPDATE_SCREENSHOTS=1``, a ``readme``
    picture is also written, reduced to a 256-colour palette, to ``docs_dir`` (default ``docs/screenshots/``,
    shown in the README)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    page.screenshot(path=str(path))
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        from PIL import Image

        docs_dir.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(docs_dir / f"{name}.png", optimize=True)
    return path


def solution_source(cell_source: str) -> str:
    """The instructor's cell with nbgrader's ``### BEGIN/END SOLUTION`` marker lines removed:
    what a student who solved the exercise would have in the cell."""
    lines = [
        line for line in cell_source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    ]
    return "\n".join(lines)
