"""Alert delivery: one message per run by e-mail (SMTP, STARTTLS) and a Slack-compatible webhook.

Secrets (SMTP credentials, the webhook URL) are read from the environment variables named
in ``[alerts]``; they are removed from every error text before it is stored or shown, also
encoded (base64 as in SMTP AUTH PLAIN and LOGIN, URL-encoded): a server that echoes the AUTH
line in its error reply does not get the password into ``monitor_deliveries`` or the console.
Credentials are never sent without STARTTLS unless ``[alerts] allow_plaintext_auth``.
Each channel is retried with exponential backoff; the outcome is returned, never raised.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from leadjourney.config import PLAINTEXT_AUTH_REFUSED, AlertSettings, plaintext_auth_refused
from leadjourney.redaction import redact


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None


def secrets(settings: AlertSettings) -> list[str]:
    """The secret values in effect (to redact), read from the named environment variables.

    With SMTP credentials, also the strings an SMTP AUTH exchange is built from (``\\0user\\0password``
    for AUTH PLAIN, ``user\\0password``), so that their encoded forms are redacted whole."""
    names = (settings.smtp_username_env, settings.smtp_password_env, settings.slack_webhook_env)
    values = [v for n in names if n and (v := os.environ.get(n))]
    user, password = (os.environ.get(n) if n else None
                      for n in (settings.smtp_username_env, settings.smtp_password_env))
    if user and password:
        values += [f"\0{user}\0{password}", f"{user}\0{password}"]
    return values


def channels(settings: AlertSettings) -> list[str]:
    out = []
    if settings.smtp_host:
        out.append("email")
    if settings.slack_webhook_env:
        out.append("webhook")
    return out


def send_email(settings: AlertSettings, subject: str, body: str, attachments: Sequence[Path] = ()) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, settings.smtp_from, ", ".join(settings.smtp_to)
    msg.set_content(body)
    for path in attachments:
        subtype = "html" if path.suffix == ".html" else "markdown"
        msg.add_attachment(path.read_text("utf-8"), subtype=subtype, filename=path.name)
    assert settings.smtp_host is not None
    if plaintext_auth_refused(settings):  # the config refuses this too; settings made in Python may not
        raise RuntimeError(f"smtp_starttls = {PLAINTEXT_AUTH_REFUSED}")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        user = os.environ.get(settings.smtp_username_env or "") if settings.smtp_username_env else None
        password = os.environ.get(settings.smtp_password_env or "") if settings.smtp_password_env else None
        if user and password:
            smtp.login(user, password)
        smtp.send_message(msg)


def send_webhook(settings: AlertSettings, subject: str, body: str, attachments: Sequence[Path] = ()) -> None:
    """Post the message; the body names the report (a chat message carries no file)."""
    name = settings.slack_webhook_env or ""
    url = os.environ.get(name)
    if not url:
        raise RuntimeError(f"environment variable {name} (the webhook URL) is not set")
    data = json.dumps({"text": f"*{subject}*\n{body}"}).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=settings.timeout_seconds) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"webhook answered HTTP {resp.status}")


SENDERS: dict[str, Callable[[AlertSettings, str, str, Sequence[Path]], None]] = {
    "email": send_email, "webhook": send_webhook}


def deliver(settings: AlertSettings, subject: str, body: str,
            sleep: Callable[[float], None] = time.sleep, attachments: Sequence[Path] = ()) -> list[Delivery]:
    """Send the message on every configured channel, retrying with backoff; errors redacted.

    E-mail carries ``attachments`` (the period report) as files."""
    hidden = secrets(settings)
    out = []
    for channel in channels(settings):
        error = None
        for attempt in range(1, settings.attempts + 1):
            try:
                SENDERS[channel](settings, subject, body, attachments)
            except Exception as exc:  # any failure is recorded, never raised
                error = redact(f"{type(exc).__name__}: {exc}", hidden)
                if attempt < settings.attempts:
                    sleep(settings.backoff_seconds * 2 ** (attempt - 1))
                continue
            out.append(Delivery(channel, True, attempt))
            break
        else:
            out.append(Delivery(channel, False, settings.attempts, error))
    return out
