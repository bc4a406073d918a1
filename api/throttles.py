"""Rate limits per client network, shared by every web instance through Django's cache.

The same throttles guard the pages and the API: `enforce()` raises `LimitReached`, which the API
answers with a JSON 429 and the pages with the form and a 429, both with Retry-After.

`AttemptLimit`s count attempts to guess something (a password) per account and per network;
`attempt()` takes one from each and raises `LimitReached` when any is used up.
"""

import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle


class LimitReached(exceptions.Throttled):
    """Over a rate limit or a quota: 429 with Retry-After and a message naming the limit."""

    def __init__(self, message: str, retry_after: float):
        exceptions.APIException.__init__(self, message)
        self.wait = max(1, math.ceil(retry_after))


def client_network(request) -> str:
    """The client's address; an IPv6 client's /64 (what one line gets), so that changing
    addresses within it changes nothing."""
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
        return client_network(request)

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


class AttemptLimit:
    """At most `count` attempts per key in each window of `window` seconds: guesses at a
    password, requests for a reset link. Counted in the shared cache, so every web instance
    sees the same count.

    An attempt is counted before it is judged, so the check and the count are one step (an
    atomic INCR with Redis: simultaneous requests cannot all slip under the limit); the caller
    gives back the attempts that succeeded, so only failures add up. Windows are fixed (each
    starts at a multiple of its length), so the wait is exact: until the next window. Within it,
    nothing is judged, so the right password does not work either.
    """

    scope: str
    count_setting: str  # the settings name of the attempts allowed per window
    refusal: str  # ngettext_lazy with %(minutes)s (the number)

    def __init__(self, ident: str):
        # Hashed: the key says nothing about whom it counts, and its length is bounded.
        self.ident = hashlib.sha256(ident.encode()).hexdigest()[:32]
        self.key = ""
        self.timeout = 0

    @property
    def count(self) -> int:
        return getattr(settings, self.count_setting)

    def window(self) -> int:
        return 3600

    def take(self) -> None:
        """Count one attempt; LimitReached (counting nothing) when the window's are used up."""
        now = time.time()
        end = self._locate(now)
        if _add(self.key, 1, self.timeout) > self.count:
            _add(self.key, -1, self.timeout)
            wait = end - now
            raise LimitReached(self.refusal % {"minutes": max(1, math.ceil(wait / 60))}, wait)

    def give_back(self) -> None:
        if self.key:
            _add(self.key, -1, self.timeout)

    def clear(self) -> None:
        """Forget this window's attempts."""
        self._locate(time.time())
        cache.delete(self.key)

    def _locate(self, now: float) -> float:
        """Point at the current window's counter; return when the window ends."""
        window = max(1, self.window())
        start = int(now // window * window)
        self.key = f"attempts:{self.scope}:{self.ident}:{start}"
        self.timeout = math.ceil(start + window - now) + 1
        return start + window


def _add(key: str, delta: int, timeout: int) -> int:
    """Add delta to the counter at key (0 when missing), kept until the window ends; return
    the new count."""
    if isinstance(caches["default"], RedisCache):
        # Atomic: no two requests get the same count. INCR keeps the key's expiry.
        if delta > 0 and cache.add(key, delta, timeout):
            return delta
        try:
            return cache.incr(key, delta)
        except ValueError:  # it lapsed between the two calls, or is given back too late
            return _add(key, delta, timeout) if delta > 0 else 0
    # The database cache has no atomic increment (its incr() is a get and a set, and sets the
    # default timeout): one read and one write. Requests judged at the same moment on
    # different processes can count once between them.
    count = max(0, (cache.get(key) or 0) + delta)
    cache.set(key, count, timeout)
    return count


class Attempt:
    """One attempt, counted by every limit it was taken from."""

    def __init__(self, limits: list[AttemptLimit]):
        self.limits = limits

    def give_back(self) -> None:
        """It succeeded: it does not count towards the limits."""
        for limit in self.limits:
            limit.give_back()


def attempt(*limits: AttemptLimit) -> Attempt:
    """Count one attempt against each limit; raise LimitReached, counting nothing, when one of
    them is used up."""
    taken: list[AttemptLimit] = []
    try:
        for limit in limits:
            limit.take()
            taken.append(limit)
    except LimitReached:
        Attempt(taken).give_back()
        raise
    return Attempt(taken)


def account_ident(email: str) -> str:
    """The key of an account's limits: the address as typed, normalized. Addresses without an
    account are counted the same way, so a limit tells nothing about who has one."""
    return (email or "").strip().lower()


class LoginsPerAccount(AttemptLimit):
    scope = "login-account"
    count_setting = "LOGIN_FAILURES_PER_ACCOUNT"
    refusal = ngettext_lazy(
        "Too many failed log-ins with this email address. Please try again in %(minutes)s minute.",
        "Too many failed log-ins with this email address. Please try again in %(minutes)s minutes.",
        "minutes",
    )

    def __init__(self, email: str):
        super().__init__(account_ident(email))

    def window(self) -> int:
        return settings.LOGIN_WINDOW_SECONDS


class LoginsPerNetwork(AttemptLimit):
    scope = "login-network"
    count_setting = "LOGIN_FAILURES_PER_ADDRESS"
    refusal = ngettext_lazy(
        "Too many failed log-ins from your network. Please try again in %(minutes)s minute.",
        "Too many failed log-ins from your network. Please try again in %(minutes)s minutes.",
        "minutes",
    )

    def __init__(self, request):
        super().__init__(client_network(request))

    def window(self) -> int:
        return settings.LOGIN_WINDOW_SECONDS


class PasswordResetsPerAccount(AttemptLimit):
    scope = "reset-account"
    count_setting = "PASSWORD_RESETS_PER_ACCOUNT_HOUR"
    refusal = ngettext_lazy(
        "Too many password reset requests for this email address. "
        "Please try again in %(minutes)s minute.",
        "Too many password reset requests for this email address. "
        "Please try again in %(minutes)s minutes.",
        "minutes",
    )

    def __init__(self, email: str):
        super().__init__(account_ident(email))


class PasswordResetsPerNetwork(AttemptLimit):
    scope = "reset-network"
    count_setting = "PASSWORD_RESETS_PER_ADDRESS_HOUR"
    refusal = ngettext_lazy(
        "Too many password reset requests from your network. "
        "Please try again in %(minutes)s minute.",
        "Too many password reset requests from your network. "
        "Please try again in %(minutes)s minutes.",
        "minutes",
    )

    def __init__(self, request):
        super().__init__(client_network(request))
