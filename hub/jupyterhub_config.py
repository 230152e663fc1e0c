"""JupyterHub configuration of the CNN course (`make hub`; docs/hub.md).

PAM logins of real Unix users (JupyterHub's default authenticator: a user's password is their Unix password),
or, with CNN_HUB_AUTH=lti13, LTI 1.3 launches from the university's LMS (docs/lms.md); one single-user JupyterLab per user started as that user (LocalProcessSpawner, so the hub runs as root), and
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

# --- who may log in: the course's Unix accounts, checked by PAM (default) or by the LMS (LTI 1.3) ---
c.Authenticator.allowed_users = {HUB["instructor"], *HUB["students"]}

#: CNN_HUB_LTI_* variable -> LTI13Authenticator setting; each is required with CNN_HUB_AUTH=lti13 (docs/lms.md)
LTI_REQUIRED = {
    "CNN_HUB_LTI_ISSUER": "issuer",  # the LMS's issuer (Canvas: https://canvas.instructure.com; Moodle: its URL)
    "CNN_HUB_LTI_CLIENT_ID": "client_id",  # the tool's client id(s) in the LMS, comma-separated
    "CNN_HUB_LTI_AUTHORIZE_URL": "authorize_url",  # the LMS's OIDC authorization endpoint
    "CNN_HUB_LTI_JWKS_URL": "jwks_endpoint",  # the LMS's public keys, which sign its launches
}


def use_lti13(env: dict) -> None:
    """LTI 1.3 logins (jupyterhub-ltiauthenticator): the LMS signs a launch, the hub checks it with the LMS's keys.

    The hub's user is the launch's ``CNN_HUB_LTI_USERNAME_KEY`` claim [custom_username: the custom parameter
    ``username``, which the LMS admin sets to the LMS login name], lower-cased, then renamed by the JSON map in
    ``CNN_HUB_LTI_USERNAME_MAP`` ({LMS name: hub account}; with a map, only its LMS names log in); only the course's
    accounts may log in (allowed_users), each a Unix user, as LocalProcessSpawner needs. Stops the hub with a
    message if a setting is missing.
    """
    missing = [name for name in LTI_REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise SystemExit(
            f"hub/jupyterhub_config.py: CNN_HUB_AUTH=lti13 needs {', '.join(missing)} "
            "(the values the LMS shows when the hub is registered as an LTI 1.3 tool; see docs/lms.md)"
        )
    c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
    lti = c.LTI13Authenticator
    lti.issuer = env["CNN_HUB_LTI_ISSUER"].strip()
    lti.client_id = {i.strip() for i in env["CNN_HUB_LTI_CLIENT_ID"].split(",") if i.strip()}
    lti.authorize_url = env["CNN_HUB_LTI_AUTHORIZE_URL"].strip()
    lti.jwks_endpoint = env["CNN_HUB_LTI_JWKS_URL"].strip()
    lti.username_key = env.get("CNN_HUB_LTI_USERNAME_KEY", "custom_username")
    lti.tool_name = "CNN course"
    lti.tool_description = "The CNN course's JupyterLab and nbgrader assignments"
    # The scheme students reach the hub with: https behind the TLS-terminating reverse proxy a real class needs.
    # The LMS posts the launch from its own site, so the hub's login cookies must be SameSite=None (and Secure).
    scheme = env.get("CNN_HUB_LTI_SCHEME", "https")
    if scheme not in ("https", "http"):
        raise SystemExit(f"hub/jupyterhub_config.py: CNN_HUB_LTI_SCHEME must be https or http, not {scheme!r}")
    lti.uri_scheme = scheme
    if scheme == "https":
        c.JupyterHub.tornado_settings = {"cookie_options": {"samesite": "None", "secure": True}}
    mapping = env.get("CNN_HUB_LTI_USERNAME_MAP", "").strip()
    if mapping:
        with open(mapping) as f:
            c.Authenticator.username_map = {k.lower(): v for k, v in json.load(f).items()}
        c.Authenticator.post_auth_hook = only_mapped_lms_users


def only_mapped_lms_users(authenticator, handler, authentication: dict) -> dict | None:
    """With a username map, only its LMS names log in: an LMS user whose own name happens to be a course account
    (say, the instructor's) is not that account. Returning None refuses the login."""
    claims = authentication.get("auth_state") or {}  # the launch's verified id_token
    lms_name = str(authenticator.get_username(claims)).lower()
    if lms_name not in authenticator.username_map:
        authenticator.log.warning("LTI launch of %r refused: not in CNN_HUB_LTI_USERNAME_MAP", lms_name)
        return None
    return authentication


AUTH = os.environ.get("CNN_HUB_AUTH", "pam")
if AUTH == "pam":
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False  # no login session per server start (pam_systemd & co. are not needed)
elif AUTH == "lti13":
    use_lti13(dict(os.environ))
else:
    raise SystemExit(f"hub/jupyterhub_config.py: CNN_HUB_AUTH={AUTH!r}: use pam (the default) or lti13")

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
