"""Access control: loopback by default, a login wall (token or hashed password) everywhere else.

The credential lives in the environment variable named by ``[dashboard] auth_env``. Its value is
either a token (at least 16 characters, compared in constant time) or a password hash from
:func:`hash_password` (``scrypt$n$r$p$salt$hash`` or ``pbkdf2_sha256$iterations$salt$hash``).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, Response, redirect, request, session

from leadjourney.config import Config
from leadjourney.errors import LeadJourneyError

MIN_TOKEN_LENGTH = 16
LOGIN_PATH = "/login"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class DashboardError(LeadJourneyError):
    """Raised when the dashboard cannot start as asked (e.g. exposed without authentication)."""


@dataclass(frozen=True)
class Auth:
    """The configured credential: a token or a password hash."""

    kind: str  # "token" or "password"
    secret: str

    def check(self, given: str) -> bool:
        if self.kind == "token":
            return hmac.compare_digest(given.encode(), self.secret.encode())
        return verify_password(given, self.secret)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A scrypt hash of ``password`` to put in the auth environment variable."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` (scrypt) or pbkdf2_sha256 hash."""
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(parts[4]), n=n, r=r, p=p)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(parts[2]), int(parts[1]))
        else:
            return False
        return hmac.compare_digest(digest.hex(), parts[-1])
    except ValueError:
        return False


def auth_from_env(config: Config, environ: Mapping[str, str] | None = None) -> Auth | None:
    """The credential from the environment variable the config names, or None when it is unset."""
    value = (os.environ if environ is None else environ).get(config.dashboard_auth_env, "").strip()
    if not value:
        return None
    if value.startswith(("scrypt$", "pbkdf2_sha256$")):
        return Auth("password", value)
    if len(value) < MIN_TOKEN_LENGTH:
        raise DashboardError(f"{config.dashboard_auth_env}: a token needs at least {MIN_TOKEN_LENGTH} characters "
                             "(or use a password hash from leadjourney.dashboard.hash_password)")
    return Auth("token", value)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: Auth | None, env_name: str) -> None:
    """Refuse to serve on a non-loopback address without a credential."""
    if auth is None and not is_loopback(host):
        raise DashboardError(
            f"dashboard: refusing to serve on {host} without authentication; set {env_name} to a token or "
            "password hash ([dashboard] auth_env in leadjourney.toml), or bind to 127.0.0.1")


def install_login_wall(server: Flask, auth: Auth) -> None:
    """Every request needs a logged-in session or ``Authorization: Bearer <token>``; /login sets the session."""
    server.secret_key = secrets.token_bytes(32)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")

    @server.before_request
    def _wall() -> Response | None:
        if request.path == LOGIN_PATH:
            return _login(auth)
        if session.get("authenticated"):
            return None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and auth.check(header.removeprefix("Bearer ").strip()):
            return None
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(f"{LOGIN_PATH}?next={request.full_path}")  # type: ignore[return-value]
        return Response('{"error": "authentication required"}', status=401, mimetype="application/json")


def _login(auth: Auth) -> Response:
    target = request.values.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if request.method == "POST":
        if auth.check(request.form.get("secret", "")):
            session["authenticated"] = True
            return redirect(target)  # type: ignore[return-value]
        return Response(_login_page(target, "Wrong token or password."), status=401, mimetype="text/html")
    return Response(_login_page(target, ""), mimetype="text/html")


def _login_page(target: str, message: str) -> str:
    error = f'<p class="error">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>leadjourney dashboard: sign in</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f6f9;display:flex;justify-content:center;padding-top:15vh}}
form{{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002}}.error{{color:#c0392b}}</style></head>
<body><form method="post" action="{LOGIN_PATH}"><h2>Lead journey dashboard</h2>{error}
<input type="hidden" name="next" value="{html.escape(target)}">
<label>Token or password <input type="password" name="secret" autofocus></label> <button type="submit">Sign in</button>
</form></body></html>"""
