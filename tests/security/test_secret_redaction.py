"""SMTP credentials never reach a stored or printed error, not even encoded; no credentials without STARTTLS.

The server is real (a small SMTP server on 127.0.0.1) and, like some servers do, echoes the AUTH line it
received in its error reply: base64 of ``\\0user\\0password`` (AUTH PLAIN) or of the user and the password
on their own (AUTH LOGIN).
"""

from __future__ import annotations

import base64
import binascii
import re
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from conftest import run_cli
from leadjourney.config import AlertSettings, default_config_text, parse_config
from leadjourney.errors import ConfigError
from leadjourney.monitor.alerts import deliver
from leadjourney.redaction import redact
from leadjourney.workspace import Workspace

USER, PASSWORD = "alerts-bot", "pw/Zq81 s3cr+t='x"  # characters that base64, URL and repr encode differently


class _EchoingSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP to reach AUTH; every AUTH attempt fails with a reply that echoes what was sent."""

    mechanisms = "PLAIN LOGIN"
    received: list[str]

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 echo.test ESMTP")
        auth: list[str] = []
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            type(self).received.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250-echo.test")
                self._say(f"250 AUTH {self.mechanisms}")
            elif verb == "AUTH" and line.upper().startswith("AUTH LOGIN"):
                auth.append(line)
                self._say("334 UGFzc3dvcmQ6")  # "Password:"
            elif verb == "AUTH" or auth:
                auth.append(line)
                self._say(f"535 5.7.8 Authentication failed for: {' / '.join(auth)}")
                auth = []
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")


@pytest.fixture
def echoing_smtp(request: pytest.FixtureRequest) -> Iterator[tuple[int, list[str]]]:
    handler = type("Handler", (_EchoingSMTP,), {"received": [], "mechanisms": getattr(request, "param", "PLAIN LOGIN")})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], handler.received
    server.shutdown()
    server.server_close()


def _settings(port: int, *, starttls: bool, allow_plaintext: bool) -> AlertSettings:
    return AlertSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=starttls,
                         allow_plaintext_auth=allow_plaintext, smtp_from="monitor@example.com",
                         smtp_to=("revops@example.com",), smtp_username_env="LJ_TEST_SMTP_USER",
                         smtp_password_env="LJ_TEST_SMTP_PASSWORD", attempts=1, timeout_seconds=5.0)


def _revealed(text: str) -> list[str]:
    """Secrets readable from ``text``: as written, URL-decoded, or inside any base64 run (at any alignment)."""
    found = [form for form in (text, unquote(text)) if PASSWORD in form or USER in form]
    for run in re.findall(r"[A-Za-z0-9+/_-]{4,}={0,2}", text):
        for start in range(4):
            chunk = run[start:].rstrip("=")
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk.replace("-", "+").replace("_", "/"))
            except (binascii.Error, ValueError):
                continue
            if PASSWORD.encode() in decoded or USER.encode() in decoded or b"Zq81" in decoded:
                found.append(run)
    return found


@pytest.mark.parametrize("echoing_smtp", ["PLAIN", "LOGIN", "PLAIN LOGIN"], indirect=True)
def test_an_echoed_auth_line_is_redacted(echoing_smtp: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = echoing_smtp
    monkeypatch.setenv("LJ_TEST_SMTP_USER", USER)
    monkeypatch.setenv("LJ_TEST_SMTP_PASSWORD", PASSWORD)
    [delivery] = deliver(_settings(port, starttls=False, allow_plaintext=True), "subject", "body", sleep=lambda s: None)
    sent = [line for line in received if line.upper().startswith("AUTH")]
    assert sent and not delivery.ok and delivery.error is not None
    assert "535" in delivery.error and "[redacted]" in delivery.error  # the server did echo: the echo was hidden
    assert _revealed(" ".join(received))  # what the server got does hold the secret (the check can see it)
    assert _revealed(delivery.error) == [], delivery.error


def test_redaction_covers_url_and_python_encodings() -> None:
    url = "https://hooks.example.com/services/T0KEN/s3cr+t?x=1&y=2"
    for shown in (f"bad URL {quote(url, safe='')}", f"failed {url!r}", f"b64 {base64.b64encode(url.encode()).decode()}",
                  f"bytes {PASSWORD.encode()!r}", f"urlsafe {base64.urlsafe_b64encode(PASSWORD.encode()).decode()}"):
        out = redact(shown, [url, PASSWORD])
        assert "[redacted]" in out and "T0KEN" not in unquote(out) and _revealed(out) == [], out


@pytest.mark.parametrize("echoing_smtp", ["PLAIN LOGIN"], indirect=True)
def test_no_credentials_without_starttls_unless_opted_in(echoing_smtp: tuple[int, list[str]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = echoing_smtp
    monkeypatch.setenv("LJ_TEST_SMTP_USER", USER)
    monkeypatch.setenv("LJ_TEST_SMTP_PASSWORD", PASSWORD)
    for settings in (_settings(port, starttls=False, allow_plaintext=False),  # refused before connecting
                     _settings(port, starttls=True, allow_plaintext=False)):  # the server offers no STARTTLS
        [delivery] = deliver(settings, "subject", "body", sleep=lambda s: None)
        assert not delivery.ok and delivery.error is not None and "\n" not in delivery.error
    assert not [line for line in received if line.upper().startswith("AUTH")]
    assert "allow_plaintext_auth" in str(deliver(_settings(port, starttls=False, allow_plaintext=False), "s", "b",
                                                 sleep=lambda s: None)[0].error)


def _alerts_config(extra: str) -> str:
    text = default_config_text()
    assert "\nsmtp_starttls = true\n" in text
    return text.replace("\nsmtp_starttls = true\n", "\nsmtp_starttls = false\n").replace(
        "[alerts]\n", '[alerts]\nsmtp_host = "127.0.0.1"\nsmtp_from = "m@example.com"\nsmtp_to = ["r@example.com"]\n'
                      f'smtp_username_env = "LJ_TEST_SMTP_USER"\nsmtp_password_env = "LJ_TEST_SMTP_PASSWORD"\n{extra}', 1)


def test_the_config_refuses_plaintext_credentials_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.smtp_starttls: .*allow_plaintext_auth") as caught:
        parse_config(_alerts_config(""))
    assert "\n" not in str(caught.value)
    opted_in = _alerts_config("").replace("allow_plaintext_auth = false", "allow_plaintext_auth = true")
    assert parse_config(opted_in).alerts.allow_plaintext_auth


def test_the_cli_names_the_option(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    ws.config_path.write_text(_alerts_config(""), "utf-8")
    proc = run_cli("monitor", "-w", str(root), columns=1000)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "allow_plaintext_auth" in lines[0], lines
