"""Checking that a webhook really comes from Vipps MobilePay (Webhooks API, "Request
authentication").

Vipps sends the SHA-256 of the body (base64) in x-ms-content-sha256 and, in Authorization,
"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…": a base64 HMAC-SHA256,
keyed with the secret Vipps returned when the webhook was registered, of
"POST\\n<path and query>\\n<x-ms-date>;<host>;<content hash>".
"""

import base64
import hashlib
import hmac

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def authorization(*, secret: str, method: str, path_and_query: str, date: str, host: str, body_hash: str) -> str:
    signed = f"{method}\n{path_and_query}\n{date};{host};{body_hash}"
    signature = hmac.new(secret.encode("utf-8"), signed.encode("utf-8"), hashlib.sha256).digest()
    return f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={base64.b64encode(signature).decode('ascii')}"


def is_authentic(*, secret: str, method: str, path_and_query: str, host: str, headers, body: bytes) -> bool:
    """Whether the body is the one Vipps hashed and the request is signed with our secret."""
    if not secret:
        return False
    body_hash = content_hash(body)
    if not hmac.compare_digest(body_hash, headers.get("x-ms-content-sha256", "")):
        return False
    expected = authorization(
        secret=secret,
        method=method,
        path_and_query=path_and_query,
        date=headers.get("x-ms-date", ""),
        host=host,
        body_hash=body_hash,
    )
    return hmac.compare_digest(expected, headers.get("Authorization", ""))
