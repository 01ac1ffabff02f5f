"""A fake GA4 Data API on the test's ApiServer: POST /v1beta/properties/{id}:runReport and a token endpoint.

Bodies copy the real shape (dimensionHeaders, metricHeaders with types, rows of dimensionValues and
metricValues as strings, rowCount, metadata, kind); errors are Google's JSON error objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiserver import ApiServer, Reply, Request
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

PROPERTY = "412345678"
TOKEN = "ya29.c.b0AXv0zTN-fake-SECRET-token"
METRIC_TYPES = {"sessions": "TYPE_INTEGER", "engagedSessions": "TYPE_INTEGER", "keyEvents": "TYPE_INTEGER"}


def google_error(code: int, status: str, message: str) -> Reply:
    return Reply.json({"error": {"code": code, "message": message, "status": status}}, code)


@dataclass
class FakeGa4:
    """Rows the property holds: dimension values and metrics by name (the ground truth a test plants)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    require_token: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)  # the runReport bodies received
    keys: list[str] = field(default_factory=list)  # public keys (PEM) of the service accounts let in

    def serve(self, api: ApiServer) -> FakeGa4:
        api.route("POST", r"^/token$", self.token)
        api.route("POST", rf"^/v1beta/properties/{PROPERTY}:runReport$", self.run_report)
        api.route("POST", r"^/v1beta/properties/\d+:runReport$", lambda req: google_error(
            403, "PERMISSION_DENIED", "User does not have sufficient permissions for this property."))
        return self

    def token(self, req: Request) -> Reply:
        form = dict(p.split("=", 1) for p in req.body.decode().split("&"))
        if form.get("grant_type") != "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" or not form.get("assertion"):
            return Reply.json({"error": "invalid_grant", "error_description": "Invalid JWT"}, 400)
        return Reply.json({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})

    def authorized(self, header: str) -> bool:
        """An access token from /token, or a self-signed JWT of a known service account (what google-auth
        sends the Data API by default), its signature checked."""
        token = header.removeprefix("Bearer ")
        if token == TOKEN:
            return True
        for key in self.keys:
            try:
                jwt.decode(token, certs=key)
                return True
            except ValueError:
                continue
        return False

    def run_report(self, req: Request) -> Reply:
        header = next((v for k, v in req.headers.items() if k.lower() == "authorization"), "")
        if self.require_token and not self.authorized(header):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected "
                                "OAuth 2 access token, login cookie or other valid authentication credential.")
        body = req.json()
        self.requests.append(body)
        dims = [d["name"] for d in body["dimensions"]]
        mets = [m["name"] for m in body["metrics"]]
        span = body["dateRanges"][0]
        lo, hi = span["startDate"].replace("-", ""), span["endDate"].replace("-", "")
        found = sorted((r for r in self.rows if lo <= r["date"] <= hi), key=lambda r: [r[d] for d in dims])
        offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 10000)
        page = found[offset:offset + limit]
        out: dict[str, Any] = {
            "dimensionHeaders": [{"name": d} for d in dims],
            "metricHeaders": [{"name": m, "type": METRIC_TYPES[m]} for m in mets],
            "rowCount": len(found),
            "metadata": {"currencyCode": "USD", "timeZone": "America/New_York"},
            "kind": "analyticsData#runReport",
        }
        if page:  # the API leaves "rows" out of an empty answer
            out["rows"] = [{"dimensionValues": [{"value": r[d]} for d in dims],
                            "metricValues": [{"value": r[m]} for m in mets]} for r in page]
        return Reply.json(out)


def row(day: str, source: str, medium: str, campaign: str, page: str, sessions: int, engaged: int,
        key_events: int) -> dict[str, str]:
    return {"date": day, "sessionSource": source, "sessionMedium": medium, "sessionCampaignName": campaign,
            "landingPagePlusQueryString": page, "sessions": str(sessions), "engagedSessions": str(engaged),
            "keyEvents": str(key_events)}


def service_account_file(folder: Path, fake: FakeGa4, token_uri: str) -> Path:
    """A service-account key file as the Cloud console downloads it (its token endpoint the fake's); the fake
    lets it in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.keys.append(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = folder / "leadjourney-ga4.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "acme-analytics", "private_key_id": "4f2a9c0e1b",
        "private_key": pem, "client_email": "leadjourney@acme-analytics.iam.gserviceaccount.com",
        "client_id": "109876543210987654321", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri, "universe_domain": "googleapis.com"}))
    return path
