"""LTI 1.3 login to the course's JupyterHub (docs/lms.md; issue #14, item 5), without a real LMS.

The configuration tests load hub/jupyterhub_config.py with JupyterHub's own config loader and build the
authenticator JupyterHub would build from it: with CNN_HUB_AUTH=lti13 it is jupyterhub-ltiauthenticator's
LTI13Authenticator with the CNN_HUB_LTI_* settings, and without one of them the hub refuses to start, naming it.

The launch test (marker ``hub``: root, hub/setup.sh's accounts and proxy) runs the real hub with CNN_HUB_AUTH=lti13
against an LMS the test plays itself: its own RSA key, its public key as a JWKS served on 127.0.0.1, and signed
id_tokens sent through the authenticator's login-initiation and launch (callback) endpoints, as Canvas or Moodle
would. The hub keeps its default https setting while the test talks plain HTTP to it, as a TLS proxy in front of
it does; the test checks the hub's cookies are Secure (and SameSite=None for the launch) and sends them back itself.
A valid launch logs the LMS user in as the course account the hub's username map names; a token signed by
another key, a valid launch of an LMS user who is not in the course, and one of an LMS user whose own name is the
instructor's account name (not in the map), are refused.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import ROOT

jwt = pytest.importorskip("jwt")  # PyJWT, a dependency of jupyterhub-ltiauthenticator
pytest.importorskip("ltiauthenticator")

CONFIG = ROOT / "hub" / "jupyterhub_config.py"
SETTINGS = {
    "CNN_HUB_LTI_ISSUER": "https://lms.example.edu",
    "CNN_HUB_LTI_CLIENT_ID": "10000000000042, 10000000000043",
    "CNN_HUB_LTI_AUTHORIZE_URL": "https://lms.example.edu/api/lti/authorize_redirect",
    "CNN_HUB_LTI_JWKS_URL": "https://lms.example.edu/api/lti/security/jwks",
}


def _hub_json(state: Path, instructor: str = "cnn-instructor", students: tuple[str, ...] = ("cnn-student1",)) -> None:
    """The accounts file hub/setup.sh writes and hub/jupyterhub_config.py reads."""
    (state / "hub.json").write_text(
        json.dumps(
            {
                "instructor": instructor,
                "students": list(students),
                "course": str(state / "course"),
                "exchange": str(state / "x"),
            }
        )
    )


def _load_hub(monkeypatch: pytest.MonkeyPatch, state: Path, env: dict[str, str]):
    """A JupyterHub application with the course's config file loaded under ``env`` (as `jupyterhub -f` does)."""
    from jupyterhub.app import JupyterHub

    for name in [
        *SETTINGS,
        "CNN_HUB_AUTH",
        "CNN_HUB_LTI_SCHEME",
        "CNN_HUB_LTI_USERNAME_KEY",
        "CNN_HUB_LTI_USERNAME_MAP",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CNN_HUB_STATE", str(state))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = JupyterHub()
    app.load_config_file(str(CONFIG))
    return app


def test_the_hub_builds_an_lti13_authenticator_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    _hub_json(tmp_path)
    (tmp_path / "map.json").write_text(json.dumps({"JDoe": "cnn-student1"}))
    app = _load_hub(
        monkeypatch,
        tmp_path,
        {"CNN_HUB_AUTH": "lti13", **SETTINGS, "CNN_HUB_LTI_USERNAME_MAP": str(tmp_path / "map.json")},
    )
    auth = app.authenticator_class(parent=app)  # what JupyterHub.init_users builds
    assert isinstance(auth, LTI13Authenticator)
    assert auth.issuer == SETTINGS["CNN_HUB_LTI_ISSUER"]
    assert auth.client_id == {"10000000000042", "10000000000043"}
    assert auth.authorize_url == SETTINGS["CNN_HUB_LTI_AUTHORIZE_URL"]
    assert auth.jwks_endpoint == SETTINGS["CNN_HUB_LTI_JWKS_URL"]
    assert auth.username_key == "custom_username"
    assert auth.uri_scheme == "https"
    assert auth.allowed_users == {"cnn-instructor", "cnn-student1"}
    # the LMS name, lower-cased, becomes the course account of the map; other names stay as they are
    assert auth.normalize_username("JDoe") == "cnn-student1"
    assert auth.normalize_username("someone") == "someone"
    assert app.tornado_settings["cookie_options"] == {"samesite": "None", "secure": True}


def test_pam_stays_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from jupyterhub.auth import PAMAuthenticator

    _hub_json(tmp_path)
    app = _load_hub(monkeypatch, tmp_path, {})
    assert isinstance(app.authenticator_class(parent=app), PAMAuthenticator)


@pytest.mark.parametrize("missing", sorted(SETTINGS))
def test_the_hub_refuses_to_start_without_an_lti_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, missing: str
) -> None:
    _hub_json(tmp_path)
    env = {"CNN_HUB_AUTH": "lti13", **SETTINGS, missing: " "}
    with pytest.raises(SystemExit, match=missing) as stop:
        _load_hub(monkeypatch, tmp_path, env)
    assert "docs/lms.md" in str(stop.value)


def test_an_unknown_authentication_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _hub_json(tmp_path)
    with pytest.raises(SystemExit, match="pam .*or lti13"):
        _load_hub(monkeypatch, tmp_path, {"CNN_HUB_AUTH": "dummy"})


# --- a real launch against the running hub, from an LMS the test plays --------------------------------------

ISSUER = "https://lms.test.invalid"  # the platform's identifier (only compared, never fetched)
CLIENT_ID = "10000000000099"
KID = "test-lms-key-1"


class Platform:
    """The LMS side of LTI 1.3: an RSA key, its public half as a JWKS on 127.0.0.1, and signed launches."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                ok = self.path == "/jwks"
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks if ok else b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/jwks"

    @property
    def authorize_url(self) -> str:
        return f"{self.base}/authorize"

    def id_token(self, nonce: str, username: str, key=None) -> str:
        """A resource-link launch of the LMS user ``username`` (custom parameter ``username``), signed by ``key``
        (default: the platform's own key)."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": f"lms-user-{username}",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": username,
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "1:course",
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "https://hub.test.invalid/hub/",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "assignment-01"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
            ],
            "https://purl.imsglobal.org/spec/lti/claim/custom": {"username": username},
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KID})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class LtiHub:
    url: str
    platform: Platform
    student: str  # the course account the LMS user "JDoe" is mapped to
    instructor: str  # the instructor's course account (no LMS name maps to it)
    log: Path


@pytest.fixture(scope="module")
def lti_hub() -> Iterator[LtiHub]:
    pytest.importorskip("requests")
    from hub_utils import account_prefix, running_hub

    prefix = account_prefix("cnnl")
    student = f"{prefix}student1"
    platform = Platform()
    usermap = Path(tempfile.mkdtemp(prefix="cnn-lti-map-", dir="/tmp")) / "usermap.json"
    usermap.write_text(json.dumps({"JDoe": student}))
    lti = dict(
        CNN_HUB_AUTH="lti13",
        CNN_HUB_LTI_ISSUER=ISSUER,
        CNN_HUB_LTI_CLIENT_ID=CLIENT_ID,
        CNN_HUB_LTI_AUTHORIZE_URL=platform.authorize_url,
        CNN_HUB_LTI_JWKS_URL=platform.jwks_url,
        CNN_HUB_LTI_USERNAME_MAP=str(usermap),
    )
    # CNN_HUB_LTI_SCHEME is left at its default, https: the test reaches the hub over plain HTTP, as the TLS proxy
    # in front of a real hub does, and sends the hub's Secure cookies back itself.
    try:
        with running_hub("cnnl", students=1, extra_env=lti, prefix=prefix) as hub:
            assert f"LTI 1.3 launches from {ISSUER}" in hub.setup_output, hub.setup_output
            yield LtiHub(hub.url, platform, student, hub.instructor, hub.log)
    finally:
        platform.close()
        shutil.rmtree(usermap.parent, ignore_errors=True)


def _cookies(response, cross_site: bool = False) -> dict[str, str]:
    """The cookies ``response`` sets, as a browser behind the TLS proxy would keep them.

    The hub's cookies are Secure (it is configured for https), which a client talking plain HTTP to it would not
    send back; the test sends them itself. ``cross_site``: they must also be SameSite=None, which a browser needs
    to send them with the LMS's cross-site POST of the launch."""
    headers = response.raw.headers.getlist("Set-Cookie")
    for header in headers:
        if header.split(";")[0].split("=", 1)[1] in ("", '""'):
            continue  # a cookie cleared (the state and nonce, once the launch used them)
        attributes = {a.strip().lower() for a in header.split(";")[1:]}
        assert "secure" in attributes, header
        if cross_site:
            assert "samesite=none" in attributes, header
    return {name: value for name, value in response.cookies.items() if value not in ("", '""')}


def _launch(hub: LtiHub, username: str, key=None):
    """One LTI 1.3 launch as the LMS does it: login initiation, the hub's redirect to the LMS's authorization
    endpoint (read here, as the LMS would), then the signed id_token posted to the hub's redirect URI.

    Returns (the browser's cookies after it, the launch's response)."""
    import requests

    init = requests.post(
        f"{hub.url}/hub/lti13/oauth_login",
        allow_redirects=False,
        data={
            "iss": ISSUER,
            "login_hint": "opaque-hint",
            "target_link_uri": f"{hub.url}/hub/",
            "client_id": CLIENT_ID,
            "lti_message_hint": "opaque-message-hint",
        },
    )
    assert init.status_code == 302, init.text
    cookies = _cookies(init, cross_site=True)
    location = init.headers["Location"]
    assert location.startswith(hub.platform.authorize_url + "?"), location
    request = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    assert request["client_id"] == CLIENT_ID and request["response_type"] == "id_token"
    redirect_uri = urlparse(request["redirect_uri"])
    assert (redirect_uri.scheme, redirect_uri.path) == ("https", "/hub/lti13/oauth_callback"), redirect_uri
    token = hub.platform.id_token(request["nonce"], username, key)
    launch = requests.post(
        f"{hub.url}{redirect_uri.path}",
        data={"id_token": token, "state": request["state"]},
        cookies=cookies,
        allow_redirects=False,
    )
    return {**cookies, **_cookies(launch)}, launch


def _logged_in_as(cookies: dict[str, str], hub: LtiHub) -> str | None:
    """The user the hub's home page is shown to with these cookies, or None if it asks to log in."""
    import requests

    home = requests.get(f"{hub.url}/hub/home", cookies=cookies, allow_redirects=False)
    if home.status_code != 200:
        return None
    return hub.student if f">{hub.student}<" in home.text.replace(" ", "").replace("\n", "") else "someone else"


@pytest.mark.hub
def test_a_valid_launch_logs_the_mapped_course_account_in(lti_hub: LtiHub) -> None:
    cookies, launch = _launch(lti_hub, "JDoe")
    assert launch.status_code == 302, f"{launch.status_code} {launch.text}\n{lti_hub.log.read_text()[-3000:]}"
    assert _logged_in_as(cookies, lti_hub) == lti_hub.student


@pytest.mark.hub
def test_a_token_signed_by_another_key_is_refused(lti_hub: LtiHub) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cookies, launch = _launch(lti_hub, "JDoe", key=forger)  # same kid, same claims: only the signature differs
    assert launch.status_code == 400, f"{launch.status_code} {launch.text}"
    assert "Signature verification failed" in lti_hub.log.read_text()
    assert _logged_in_as(cookies, lti_hub) is None


@pytest.mark.hub
def test_an_lms_name_that_is_a_course_account_but_not_in_the_map_is_refused(lti_hub: LtiHub) -> None:
    """Someone whose LMS login name is the instructor's hub account name does not become the instructor."""
    cookies, launch = _launch(lti_hub, lti_hub.instructor)
    assert launch.status_code == 403, f"{launch.status_code} {launch.text}"
    assert _logged_in_as(cookies, lti_hub) is None
    assert f"LTI launch of '{lti_hub.instructor}' refused" in lti_hub.log.read_text()


@pytest.mark.hub
def test_a_valid_launch_of_someone_outside_the_course_is_refused(lti_hub: LtiHub) -> None:
    cookies, launch = _launch(lti_hub, "stranger")
    assert launch.status_code == 403, f"{launch.status_code} {launch.text}"
    assert _logged_in_as(cookies, lti_hub) is None
