"""Who may read readiness and metrics: OPS_ALLOWED_NETWORKS or a bearer OPS_TOKEN (README, "Health and metrics").

A request passes when it carries `Authorization: Bearer <OPS_TOKEN>` (OPS_TOKEN set, compared in
constant time), or when it comes straight from an address in OPS_ALLOWED_NETWORKS (CIDR list,
loopback only by default). A request that passed through a proxy (it has X-Forwarded-For or
Forwarded) never passes by address: behind a proxy on the same host every shopper's request comes
from 127.0.0.1. Others get 403 and learn nothing else.
"""

import functools
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden


@functools.cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def is_operator(request) -> bool:
    """True when `request` may read readiness and metrics (the rule above)."""
    token = settings.OPS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.OPS_ALLOWED_NETWORKS)))


def operators_only(view):
    """A view decorator: 403 unless is_operator(request)."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not is_operator(request):
            return HttpResponseForbidden("forbidden\n", content_type="text/plain")
        return view(request, *args, **kwargs)

    return guarded
