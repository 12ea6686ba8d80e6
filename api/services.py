"""Making and revoking API keys: the only writes of the api app's rows."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from .models import ApiChannel, ApiKey

KEY_START = "o2o_"
# Random characters after KEY_START that also go into the stored prefix (to find the row).
PREFIX_CHARACTERS = 12


def digest_of(raw_key: str) -> str:
    """SHA-256 of a key, hex (64 characters): what ApiKey.digest keeps."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(*, channel: ApiChannel, name: str) -> tuple[ApiKey, str]:
    """A new key for `channel`: (the row, the key itself). The key is "o2o_" and 43 URL-safe
    characters (256 random bits); only its prefix and digest are stored, so the caller must show
    it now: it can never be read again."""
    while True:
        raw = KEY_START + secrets.token_urlsafe(32)
        prefix = raw[: len(KEY_START) + PREFIX_CHARACTERS]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    key = ApiKey.objects.create(channel=channel, name=name, prefix=prefix, digest=digest_of(raw))
    return key, raw


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke `key` from now on (its next request is refused 401); revoking again changes nothing."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def key_for(raw_key: str | None) -> ApiKey | None:
    """The usable key (with its channel) that `raw_key` is, or None: unknown, revoked, of an
    inactive channel, or not a key at all. One query; the digest is compared in constant time."""
    raw_key = (raw_key or "").strip()
    prefix_length = len(KEY_START) + PREFIX_CHARACTERS
    if not raw_key.startswith(KEY_START) or len(raw_key) <= prefix_length or len(raw_key) > 200:
        return None
    key = ApiKey.objects.select_related("channel").filter(prefix=raw_key[:prefix_length]).first()
    if key is None or not hmac.compare_digest(key.digest, digest_of(raw_key)) or not key.is_usable:
        return None
    return key
