"""Rate limits per client network, shared by every web instance through Django's cache.

The same throttles guard the pages and the API: `enforce()` raises `LimitReached`, which the API
answers with a JSON 429 and the pages with the form and a 429, both with Retry-After.
"""

import ipaddress
import math

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle


class LimitReached(exceptions.Throttled):
    """Over a rate limit or a quota: 429 with Retry-After and a message naming the limit."""

    def __init__(self, message: str, retry_after: float):
        exceptions.APIException.__init__(self, message)
        self.wait = max(1, math.ceil(retry_after))


class PerNetworkThrottle(SimpleRateThrottle):
    """Counts requests per client address (an IPv6 client per /64, what one line gets).

    REMOTE_ADDR is the client's address: the web server takes X-Forwarded-For only from the
    proxies it trusts (forwarded_allow_ips), so a client cannot pick its own address here.
    """

    setting: str  # the settings name of the allowed count an hour
    refusal: str  # the message over the limit, with %(count)s and %(minutes)s

    def get_rate(self) -> str:
        return f"{getattr(settings, self.setting)}/hour"

    def get_ident(self, request) -> str:
        address = request.META.get("REMOTE_ADDR") or "unknown"
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return address
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped:
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def message(self) -> str:
        minutes = max(1, math.ceil((self.wait() or 60) / 60))
        return _(self.refusal) % {"count": self.num_requests, "minutes": minutes}


class UploadsPerNetwork(PerNetworkThrottle):
    scope = "uploads"
    setting = "UPLOADS_PER_ADDRESS_HOUR"
    refusal = gettext_noop(
        "Too many uploads from your network: at most %(count)s an hour. "
        "Please try again in %(minutes)s minutes."
    )


class SignupsPerNetwork(PerNetworkThrottle):
    scope = "signups"
    setting = "SIGNUPS_PER_ADDRESS_HOUR"
    refusal = gettext_noop(
        "Too many sign-ups from your network: at most %(count)s an hour. "
        "Please try again in %(minutes)s minutes."
    )


def refused(response, limit: LimitReached):
    """A page's answer over a limit, as the API's: 429 with Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(limit.wait)
    return response


def enforce(throttle_class: type[PerNetworkThrottle], request) -> None:
    """Count this request; raise LimitReached when its network is over the limit."""
    throttle = throttle_class()
    if not throttle.allow_request(request, None):
        raise LimitReached(throttle.message(), throttle.wait() or 60)
