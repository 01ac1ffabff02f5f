"""Access control: loopback by default, a login wall (token or hashed password) everywhere else.

The credential lives in the environment variable named by ``[dashboard] auth_env``. Its value is
either a token (at least 16 characters, compared in constant time) or a password hash from
:func:`hash_password` (``scrypt$n$r$p$salt$hash`` or ``pbkdf2_sha256$iterations$salt$hash``).

The wall: failed sign-ins (form or ``Authorization: Bearer``) are limited per client and in all
(:class:`~leadjourney.dashboard.throttle.FailureLimit`, 429 past it) and logged; a login form posted from another
origin is refused; after signing in, only a path on this site is followed (:func:`safe_next`); ``/logout`` ends
the session; the session cookie is HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode, urlsplit

from flask import Flask, Response, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from leadjourney.config import Config
from leadjourney.dashboard.throttle import FailureLimit
from leadjourney.errors import DashboardError

log = logging.getLogger(__name__)
MIN_TOKEN_LENGTH = 16
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


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


def check_bind(host: str, auth: Auth | None, env_name: str, *, behind_proxy: bool = False) -> None:
    """Refuse to serve on a non-loopback address, or behind a proxy (which serves others), without a credential."""
    if auth is None and behind_proxy:
        raise DashboardError(
            f"dashboard: refusing to serve behind a proxy without authentication; set {env_name} to a token or "
            "password hash ([dashboard] auth_env in leadjourney.toml)")
    if auth is None and not is_loopback(host):
        raise DashboardError(
            f"dashboard: refusing to serve on {host} without authentication; set {env_name} to a token or "
            "password hash ([dashboard] auth_env in leadjourney.toml), or bind to 127.0.0.1")


def trust_proxy(server: Flask) -> None:
    """Read the client's address, scheme and host from one reverse proxy's X-Forwarded-For/-Proto/-Host (only
    behind a proxy that sets them: a client reaching the server directly could forge them)."""
    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/``: where to go after signing in.

    Refused: anything not starting with one ``/`` (``//host``, ``https://host``, ``javascript:``), backslashes,
    whitespace, control characters (browsers drop a tab: ``/<tab>/host`` is ``//host``) and non-ASCII; in the
    path, also any of these percent-encoded, once or more (``/%2F/host``, ``/%5Chost``, ``/%09/host``). The query
    may hold encoded spaces and the like (``/?source=paid%20search``): after ``?`` nothing names a host.
    """
    if not target or "\\" in target or any(not 32 < ord(c) < 127 for c in target):
        return "/"
    form, seen = target.split("?", 1)[0].split("#", 1)[0], set()
    while form not in seen:  # the path and each decoding of it
        seen.add(form)
        parts = urlsplit(form)
        if (not form.startswith("/") or form.startswith("//") or "\\" in form or parts.netloc or parts.scheme
                or any(ord(c) <= 32 or ord(c) == 127 for c in form)):
            return "/"
        form = unquote(form)
    return target


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure when the request came over HTTPS (directly or through a trusted
    proxy, see :func:`trust_proxy`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def install_login_wall(server: Flask, auth: Auth, limit: FailureLimit | None = None) -> None:
    """Every request needs a logged-in session or ``Authorization: Bearer <token>``; /login sets the session,
    /logout ends it; failed attempts are limited by ``limit`` (a :class:`FailureLimit` with its defaults)."""
    limit = limit or FailureLimit()
    server.secret_key = secrets.token_bytes(32)
    server.session_interface = _SessionInterface()
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")

    @server.before_request
    def _wall() -> Response | None:
        if request.path == LOGIN_PATH:
            return _login(auth, limit)
        if request.path == LOGOUT_PATH:
            session.clear()
            return redirect(LOGIN_PATH)  # type: ignore[return-value]
        if session.get("authenticated"):
            return None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            wait = limit.retry_after(_client())
            if wait:
                return _json_error("too many failed sign-ins; try again later", 429, wait)
            if auth.check(header.removeprefix("Bearer ").strip()):
                return None
            _failed(limit, "bearer token")
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            here = quote(request.path) + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
            return redirect(f"{LOGIN_PATH}?{urlencode({'next': here})}")  # type: ignore[return-value]
        return _json_error("authentication required", 401)


def _client() -> str:
    """Who the limit counts: the client's IPv4 address, or its IPv6 /64 network (one host's addresses are all in
    it: counted one by one, a single attacker would pass every per-client limit and lock everyone out)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def _failed(limit: FailureLimit, what: str) -> None:
    n = limit.failed(_client())
    log.warning("dashboard: failed sign-in (%s) from %s, %d in the last %.0f s", what, _client(), n, limit.window)


def _json_error(message: str, status: int, retry_after: float | None = None) -> Response:
    response = Response(json.dumps({"error": message}), status=status, mimetype="application/json")
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def _cross_origin() -> str | None:
    """Why a POST is refused as coming from another site (its Origin, else its Referer, is not this server's),
    or None."""
    here = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is None and request.referrer:
        parts = urlsplit(request.referrer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin is None or origin == here:
        return None
    return f"Sign-in refused: the form was posted from {origin}, not {here}."


def _login(auth: Auth, limit: FailureLimit) -> Response:
    target = safe_next(request.values.get("next"))
    if request.method != "POST":
        return Response(_login_page(target, ""), mimetype="text/html")
    refused = _cross_origin()
    if refused:
        log.warning("dashboard: %s", refused)
        return Response(_login_page(target, refused), status=403, mimetype="text/html")
    wait = limit.retry_after(_client())
    if wait:
        response = Response(_login_page(target, f"Too many failed sign-ins: try again in {math.ceil(wait)} s."),
                            status=429, mimetype="text/html")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    if auth.check(request.form.get("secret", "")):
        limit.forget(_client())
        session.clear()
        session["authenticated"] = True
        return redirect(target)  # type: ignore[return-value]
    _failed(limit, "login form")
    return Response(_login_page(target, "Wrong token or password."), status=401, mimetype="text/html")


def _login_page(target: str, message: str) -> str:
    error = f'<p class="error">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>leadjourney dashboard: sign in</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f6f9;display:flex;justify-content:center;padding-top:15vh}}
form{{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002}}.error{{color:#c0392b}}</style></head>
<body><form method="post" action="{LOGIN_PATH}"><h2>Lead journey dashboard</h2>{error}
<input type="hidden" name="next" value="{html.escape(target)}">
<label>Token or password <input type="password" name="secret" autofocus></label> <button type="submit">Sign in</button>
</form></body></html>"""
