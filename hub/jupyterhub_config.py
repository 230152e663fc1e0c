"""JupyterHub configuration of the CNN course (`make hub`; docs/hub.md).

PAM logins of real Unix users (JupyterHub's default authenticator: a user's password is their Unix password),
one single-user JupyterLab per user started as that user (LocalProcessSpawner, so the hub runs as root), and
nbgrader configured per role: the instructor's server has the Formgrader on the course directory in the
instructor's home; the students' servers have the Assignment List and no Formgrader. hub/setup.sh prepares the
users, the exchange, the course copy and the per-role Jupyter config this file points each server at.
"""

import json
import os
import sys

c = get_config()  # noqa: F821  (provided by JupyterHub/traitlets)

STATE = os.environ.get("CNN_HUB_STATE", "/srv/cnn-hub")
VENV_BIN = os.path.dirname(os.path.abspath(sys.executable))
with open(os.path.join(STATE, "hub.json")) as f:
    HUB = json.load(f)  # written by hub/setup.sh: instructor, students, course, exchange

# --- where it listens: localhost only (put a TLS-terminating reverse proxy in front for a real class) ---
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("CNN_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("CNN_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CNN_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [os.path.join(VENV_BIN, "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "private", "proxy.pid")

# --- the hub's own state: root-only ---
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "private", "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "private", "jupyterhub_cookie_secret")
# Ctrl-C stops the proxy and every single-user server the hub started (JupyterHub's defaults, stated here).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- who may log in: the course's Unix accounts, checked by PAM ---
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {HUB["instructor"], *HUB["students"]}
c.PAMAuthenticator.open_sessions = False  # no login session per server start (pam_systemd & co. are not needed)

# --- one server per user, run as that user ---
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(VENV_BIN, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180  # JupyterLab with nbgrader's extensions on a busy 2-core machine
c.Spawner.http_timeout = 180


def per_role(spawner) -> None:
    """Point the user's server at its role's Jupyter config (nbgrader extensions, course, exchange)."""
    instructor = spawner.user.name == HUB["instructor"]
    role = "instructor" if instructor else "student"
    spawner.environment.update({
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": os.path.join(STATE, "jupyter", role),
        "NBGRADER_EXCHANGE_ROOT": HUB["exchange"],  # read by the course's nbgrader_config.py
    })
    # The Formgrader needs the course directory inside the server's root (as `make lab` has it).
    spawner.notebook_dir = HUB["course"] if instructor else "~"


c.Spawner.pre_spawn_hook = per_role
