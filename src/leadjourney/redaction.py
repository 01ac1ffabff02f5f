"""Secrets: read from the environment variables the config names, and removed from every text shown or stored.

A secret can reach an error text encoded (an SMTP server echoing the base64 AUTH line, a
URL-encoded token in a request line): :func:`redact` removes every form :func:`encoded_forms` knows.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from leadjourney.errors import ConfigError

REDACTED = "[redacted]"


def env_secret(variable: str, option: str) -> str:
    """The value of the environment variable ``variable`` (named by the config option ``option``).

    Raises ConfigError naming both when it is unset or empty; the value is never part of a message.
    """
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(f"{option} names the environment variable {variable}, which is not set")
    return value


def encoded_forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear in an error text: as written, URL-encoded, as Python shows it inside
    str or bytes, and base64-encoded (standard and URL-safe, padded or not; and, for the secret inside a
    longer encoded text, the characters that are the same wherever it starts).

    >>> redact("535 rejected: AUTH PLAIN AHVzZXIAcGFzcw==", ["\\0user\\0pass"])
    '535 rejected: AUTH PLAIN [redacted]'
    """
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1], repr(raw)[2:-1]}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms |= {whole, whole.rstrip("=")}
        for offset in (0, 1, 2):  # bytes before the secret in its 3-byte group
            text = encode(b"\0" * offset + raw).decode()
            groups = (offset + len(raw)) // 3  # complete groups; the first one (if shared) and the last
            forms.add(text[4 if offset else 0: groups * 4])  # partial one also depend on other bytes
    return {f for f in forms if len(f) >= 4 or f == secret}


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every secret in ``values``, in any of its :func:`encoded_forms`, replaced."""
    forms = {form for v in values if v for form in encoded_forms(v)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text
