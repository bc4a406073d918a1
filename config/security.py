"""What the site believes about its proxies, which key it signs with, and what browsers may load.

- HTTPS follows web_url's scheme (settings.py). The web server (gunicorn's uvicorn workers)
  believes X-Forwarded-Proto and X-Forwarded-For only from forwarded_allow_ips, the load
  balancer's addresses. Django's SECURE_PROXY_SSL_HEADER on its own would believe
  X-Forwarded-Proto from anyone who reaches an instance directly: ForwardedProtoMiddleware
  replaces the header with the server's decision, so both trust the same peers and
  forwarded_allow_ips is the one place that says which.
- Every web instance of a cluster must sign sessions, CSRF tokens and emailed links with one
  key: a cluster refuses to start without secret_key.
- The Content-Security-Policy allows scripts, styles and everything else from the site itself
  only (no inline script or style, no eval), plus pictures, videos and the streams' playlists
  and segments (which hls.js fetches) from where the public files are served (S3, CloudFront),
  and the parts of a video sent to the originals' bucket (connect-src).
"""

import logging
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from csp.middleware import CSPMiddleware

from config import database
from config.loader import ConfigError

logger = logging.getLogger(__name__)

FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"

# The policy of every response. Pages load their scripts and style sheets from /static/ (the
# video page the player's too) and hold no inline script, style or event handler.
CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    # blob: the contest form previews the banner file chosen, before it is sent
    "img-src": [SELF, "blob:"],
    # blob: hls.js plays a stream through Media Source Extensions, a blob: URL in <video src>
    "media-src": [SELF, "blob:"],
    "connect-src": [SELF],  # the upload, the live entry states, the streams (hls.js, Plyr)
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],  # no page in another site's frame (X-Frame-Options DENY too)
}


def is_https(web_url: str) -> bool:
    return web_url.lower().startswith("https://")


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser's Origin header says it."""
    return f"{urlsplit(url).scheme}://{host(url)}"


def host(url: str) -> str:
    """host[:port] of a URL."""
    return urlsplit(url).netloc


def secret_key(config: dict[str, str], data_dir: Path) -> str:
    """secret_key when set. Without one, the embedded setup (SQLite) keeps a random key in its
    data folder; a cluster (a database server) refuses to start, since each instance would sign
    with its own key and the others would refuse its sessions and links."""
    if config["secret_key"]:
        return config["secret_key"]
    engine = database.databases(config, data_dir)["default"]["ENGINE"]
    if engine != database.ENGINES["sqlite"]:
        raise ConfigError(
            "secret_key is required with a database server: every web instance and worker must "
            "sign sessions and emailed links with the same key. Set the same long random value "
            "everywhere (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))') "
            "as secret_key in the secret or VIDEOSHARE_SECRET_KEY"
        )
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def silenced_checks(*, include_subdomains: bool, preload: bool) -> list[str]:
    """`check --deploy` asks for HSTS on subdomains and for preloading. Both are off unless
    configured: the domain may have subdomains that are not on HTTPS, and a preloaded domain
    stays HTTPS-only in browsers for months after leaving the list. Leaving them off is a
    decision, not an oversight."""
    silenced = []
    if not include_subdomains:
        silenced.append("security.W005")
    if not preload:
        silenced.append("security.W021")
    return silenced


class ForwardedProtoMiddleware:
    """X-Forwarded-Proto as the web server believed it: the request's scheme, which the server
    took from the header only when a peer in forwarded_allow_ips sent it.

    Under ASGI the scheme is the scope's (uvicorn's proxy headers); under WSGI it is
    wsgi.url_scheme (gunicorn's own forwarded_allow_ips), so settings.SECURE_PROXY_SSL_HEADER
    sees the same answer either way. A header the server ignored is logged once per peer: behind
    a load balancer missing from forwarded_allow_ips every page would redirect to itself.
    """

    MAX_PEERS_LOGGED = 1000

    def __init__(self, get_response):
        self.get_response = get_response
        self.peers_logged: set[str] = set()

    def __call__(self, request):
        scope = getattr(request, "scope", None)
        if scope is not None:
            scheme = scope.get("scheme") or "http"
        else:
            scheme = request.META.get("wsgi.url_scheme") or "http"
        claimed = request.META.get(FORWARDED_PROTO)
        if claimed is not None and claimed.split(",", 1)[0].strip().lower() != scheme:
            self.log_ignored(request.META.get("REMOTE_ADDR", ""), claimed)
        request.META[FORWARDED_PROTO] = scheme
        return self.get_response(request)

    def log_ignored(self, peer: str, claimed: str) -> None:
        if peer in self.peers_logged or len(self.peers_logged) >= self.MAX_PEERS_LOGGED:
            return
        self.peers_logged.add(peer)
        logger.warning(
            "X-Forwarded-Proto %r from %s ignored: that address is not in forwarded_allow_ips",
            claimed,
            peer,
            extra={"event": "forwarded_header_ignored", "peer": peer},
        )


def media_origins() -> list[str]:
    """Where the files (banners, videos, posters) come from when it is not the site itself:
    the origins of URLs the storage makes, as it makes every file's URL. A public file may come
    from CloudFront while the organizer's signed links to a hidden entry's files come from the
    bucket itself: both are asked."""
    from django.core.files.storage import storages

    found = []
    for name in ("videos/example.mp4", "hidden/videos/example.mp4"):
        try:
            url = storages["default"].url(name)
        except Exception:  # e.g. no credentials to sign with yet: the public origin still holds
            continue
        parts = urlsplit(url)
        if parts.scheme and parts.netloc and origin(url) not in found:
            found.append(origin(url))
    return found


def upload_origins() -> list[str]:
    """Where the contest page sends a video's parts when the originals are kept in S3: the
    origin of the URLs signed for them (the bucket's endpoint, or the one configured)."""
    from django.core.files.storage import storages

    from config import aws

    originals = storages["originals"]
    if not hasattr(originals, "bucket_name"):
        return []
    try:
        url = aws.s3_part_url(originals, "originals/example", "example", 1, seconds=60)
    except Exception:  # e.g. no credentials to sign with yet
        return []
    return [origin(url)]


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's header from settings.CONTENT_SECURITY_POLICY, with the public files' origin
    added to img-src, media-src and connect-src (hls.js and Plyr fetch playlists, segments and
    storyboards) when they are served from elsewhere (S3, CloudFront), and the originals'
    bucket to connect-src when participants' browsers send their videos straight to it."""

    def __init__(self, get_response):
        super().__init__(get_response)
        where = media_origins()
        directives = ("img-src", "media-src", "connect-src")
        self.media_sources = {directive: list(where) for directive in directives} if where else {}
        for bucket in upload_origins():
            sources = self.media_sources.setdefault("connect-src", [])
            if bucket not in sources:
                sources.append(bucket)

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if self.media_sources and not report_only:
            update = dict(parts.update or {})
            for directive, sources in self.media_sources.items():
                update[directive] = [*sources, *update.get(directive, [])]
            parts.update = update
        return parts
