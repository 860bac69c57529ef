"""The web chat's OIDC login (Streamlit's st.login / st.logout, Authlib) end to end in a real browser.

A small OpenID Connect provider runs in this process on a free loopback port (discovery, authorize, token with
an RS256-signed id_token, JWKS, userinfo, end-session) and checks what a real one checks: client id and secret,
redirect URI, the state round trip, PKCE (S256), single-use codes. The real Streamlit server runs ``ui/app.py``
from a folder whose ``.streamlit/secrets.toml`` has the ``[auth]`` section, and Chromium logs in and out.

Skips (with the reason) where Chromium or Playwright is missing; with ``CI=true`` it must run and fails instead.
The screenshot goes to ``tests/artifacts/``.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED_QUESTION
from helpers import free_port
from test_e2e_browser import (ARTIFACTS, PortTaken, _ask, _watch, browser,  # noqa: F401 (browser: a fixture)
                              streamlit_server)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CLIENT_ID = "qa-bot-web"
USER = {"sub": "alice-0001", "email": "alice@example.org", "email_verified": True, "name": "Alice Example"}
SIGNED_IN = f"Signed in as {USER['email']}"
LOGIN_TIMEOUT_MS = 60_000


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(n: int) -> str:
    return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class FakeOIDCProvider:
    """An OpenID Connect provider with one user and one client; every request it answers is recorded, every
    request it refuses lands in ``errors`` (a test asserts it stays empty)."""

    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uri: str = ""
    issuer: str = ""
    kid: str = "test-key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    # --- tokens ---------------------------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        pub = self._key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": _int_b64url(pub.n), "e": _int_b64url(pub.e)}]}

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(sig)}"

    def metadata(self) -> dict[str, Any]:
        b = self.issuer
        return {"issuer": b, "authorization_endpoint": f"{b}/authorize", "token_endpoint": f"{b}/token",
                "jwks_uri": f"{b}/jwks", "userinfo_endpoint": f"{b}/userinfo", "end_session_endpoint": f"{b}/logout",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "grant_types_supported": ["authorization_code"], "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "email", "email_verified", "name", "iss", "aud", "exp", "iat", "nonce"]}

    # --- endpoints ------------------------------------------------------------------------------------------
    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        problems = [f"{k}={q.get(k)!r}" for k, want in (("response_type", "code"), ("client_id", CLIENT_ID),
                                                        ("redirect_uri", self.redirect_uri),
                                                        ("code_challenge_method", "S256")) if q.get(k) != want]
        problems += [f"no {k}" for k in ("state", "nonce", "code_challenge") if not q.get(k)]
        if "openid" not in q.get("scope", "").split():
            problems.append(f"scope={q.get('scope')!r}")
        if problems:
            return self._refuse(f"authorize: {', '.join(problems)}")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        to = f"{q['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': q['state']})}"
        return 302, {"Location": to}, None

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, str], Any]:
        client_id, secret = form.get("client_id"), form.get("client_secret")  # client_secret_post
        if authorization and authorization.startswith("Basic "):  # client_secret_basic (form-encoded parts)
            raw = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = (urllib.parse.unquote_plus(x) for x in raw.partition(":"))
        if client_id != CLIENT_ID or secret != self.client_secret:
            return self._refuse(f"token: client authentication failed ({client_id!r})", 401)
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._refuse(f"token: grant_type={form.get('grant_type')!r}, unknown or used code")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._refuse(f"token: redirect_uri={form.get('redirect_uri')!r}")
        verifier = form.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode("ascii")).digest()) != grant["challenge"]:
            return self._refuse("token: PKCE code_verifier does not match the code_challenge")
        now = int(time.time())
        id_token = self.sign({"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 600,
                              "auth_time": now, "nonce": grant["nonce"], **USER})
        self.id_tokens.append(id_token)
        return 200, {}, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 600,
                         "scope": "openid email profile", "id_token": id_token}

    def logout(self, q: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if q.get("post_logout_redirect_uri") != self.redirect_uri or q.get("client_id") != CLIENT_ID:
            return self._refuse(f"logout: {q}")
        return 302, {"Location": q["post_logout_redirect_uri"]}, None

    def _refuse(self, why: str, status: int = 400) -> tuple[int, dict[str, str], Any]:
        self.errors.append(why)
        return status, {}, {"error": "invalid_request", "error_description": why}

    def handle(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               headers: Any) -> tuple[int, dict[str, str], Any]:
        self.calls.append((path, {**query, **form}))
        if method == "GET" and path == "/.well-known/openid-configuration":
            return 200, {}, self.metadata()
        if method == "GET" and path == "/jwks":
            return 200, {}, self.jwks()
        if method == "GET" and path == "/authorize":
            return self.authorize(query)
        if method == "POST" and path == "/token":
            return self.token(form, headers.get("Authorization"))
        if method == "GET" and path == "/userinfo":
            return 200, {}, USER
        if method == "GET" and path == "/logout":
            return self.logout(query)
        return self._refuse(f"{method} {path}: not an endpoint", 404)

    def paths(self) -> list[str]:
        return [p for p, _ in self.calls]


@contextmanager
def oidc_provider(redirect_uri: str) -> Iterator[FakeOIDCProvider]:
    provider = FakeOIDCProvider(redirect_uri=redirect_uri)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            form: dict[str, str] = {}
            if method == "POST":
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = dict(urllib.parse.parse_qsl(body))
            try:
                status, headers, payload = provider.handle(method, url.path, query, form, self.headers)
            except Exception as e:  # a bug here must show in the test, not as a hung login
                provider.errors.append(f"{method} {url.path}: {type(e).__name__}: {e}")
                status, headers, payload = 500, {}, {"error": "server_error"}
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-oidc", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def _app_dir(tmp_path: Path, provider: FakeOIDCProvider) -> Path:
    """A working directory for ``streamlit run`` whose .streamlit/secrets.toml configures the provider."""
    app_dir = tmp_path / "app"
    (app_dir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (app_dir / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{provider.redirect_uri}"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n')
    return app_dir


def _login_gate_only(page) -> None:
    """The page shows the "Log in" button and nothing of the chat: no chat input, no index, no sign-in line."""
    chat_input = page.get_by_test_id("stChatInputTextArea")
    page.get_by_role("button", name="Log in").or_(chat_input).first.wait_for(timeout=LOGIN_TIMEOUT_MS)
    # the script run has ended: anything the gate let through would be on the page now
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=LOGIN_TIMEOUT_MS)
    page.wait_for_timeout(500)
    assert chat_input.count() == 0, "the chat input is on the page before login"
    assert page.get_by_role("button", name="Log in").is_visible()
    assert page.get_by_text("Clinical questions, answered from the evidence").count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    assert page.get_by_role("button", name="Log out").count() == 0


def _in_order(seen: list[str], expected: list[str]) -> bool:
    """``expected`` is a subsequence of ``seen``."""
    it = iter(seen)
    return all(any(x == e for x in it) for e in expected)


def _auth_cookies(context) -> dict[str, dict]:
    return {c["name"]: c for c in context.cookies() if c["name"].startswith("_streamlit_user")}


@contextmanager
def _chat_behind_provider(indexed_settings, tmp_path: Path) -> Iterator[tuple[FakeOIDCProvider, str]]:
    """The fake provider and the chat configured for it, on one port chosen for both (the redirect_uri names it):
    another port, up to three times, when one is taken before Streamlit binds it."""
    for _ in range(3):
        port = free_port()
        # the browser uses the redirect_uri's host (localhost): Streamlit checks the page's origin against it
        with oidc_provider(f"http://localhost:{port}/oauth2callback") as provider:
            app_dir = _app_dir(tmp_path, provider)
            env = {"QA_BOT_DATA_DIR": str(indexed_settings.data_dir),
                   "QA_BOT_CORPUS": str(indexed_settings.ingest.corpus[0]),
                   "QA_BOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite"), "NO_PROXY": "127.0.0.1,localhost",
                   "no_proxy": "127.0.0.1,localhost"}  # QA_BOT_UI_LOGIN unset: "auto" finds [auth]
            try:
                with streamlit_server(env, tmp_path / "streamlit.log", cwd=app_dir, port=port, host="localhost") as url:
                    yield provider, url
                    return
            except PortTaken:
                continue
    pytest.fail("no port for the provider and the chat in 3 tries")


def test_oidc_login_in_browser_gates_the_chat_until_signed_in(browser, indexed_settings, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _chat_behind_provider(indexed_settings, tmp_path) as (provider, url):
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        dialogs = _watch(page)
        t0 = time.perf_counter()

        # 1. before login: opened directly, and after a made-up callback, the page is the login gate only
        page.goto(url)
        _login_gate_only(page)
        page.screenshot(path=str(ARTIFACTS / "ui_oidc_gate.png"))
        page.goto(f"{url}/oauth2callback?code=made-up&state=made-up")
        _login_gate_only(page)
        assert _auth_cookies(context) == {}
        assert "/token" not in provider.paths()

        # 2. "Log in": through the provider and back, signed in, the chat there
        page.get_by_role("button", name="Log in").click()
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text(SIGNED_IN).wait_for(timeout=LOGIN_TIMEOUT_MS)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=LOGIN_TIMEOUT_MS)
        login_s = time.perf_counter() - t0
        assert page.url.rstrip("/") == url
        assert provider.errors == []
        assert _in_order(provider.paths(), ["/.well-known/openid-configuration", "/authorize", "/token", "/jwks"])
        assert len(provider.id_tokens) == 1 and provider.codes == {}  # the one code was redeemed
        cookie = _auth_cookies(context)["_streamlit_user"]
        assert cookie["httpOnly"] and cookie["domain"] == "localhost"
        assert page.get_by_role("button", name="Log in").count() == 0

        # signed in, the chat answers
        answer_s = _ask(page, SEED_QUESTION, 1)
        answer = page.locator("[data-testid=stChatMessage]").nth(1)
        assert "Bottom line" in answer.get_by_test_id("qa-answer").inner_text()
        assert "[1]" in answer.get_by_test_id("qa-references").inner_text()
        page.screenshot(path=str(ARTIFACTS / "ui_oidc_signed_in.png"))

        # another browser (no cookie) still gets the gate only
        other = browser.new_context(viewport={"width": 1280, "height": 1000})
        other_page = other.new_page()
        other_page.goto(url)
        _login_gate_only(other_page)
        other.close()

        # 3. "Log out": the provider's end-session endpoint with our id_token, back to the gate, cookie gone
        with page.expect_navigation(url=re.compile(rf"^{re.escape(url)}/?$"), timeout=LOGIN_TIMEOUT_MS):
            page.get_by_role("button", name="Log out").click()
        _login_gate_only(page)
        logouts = [q for p, q in provider.calls if p == "/logout"]
        assert len(logouts) == 1 and logouts[0].get("id_token_hint") == provider.id_tokens[0]
        assert _auth_cookies(context) == {}
        assert page.locator("[data-testid=stChatMessage]").count() == 0
        page.reload()
        _login_gate_only(page)
        assert provider.errors == []
        assert dialogs == []
        context.close()
    print(f"\noidc: signed in after {login_s:.1f}s, first answer {answer_s:.1f}s")
