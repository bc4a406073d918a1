"""The bucket's key prefixes, as the app uses them (config/storage.py, videos/services.py,
contests/models.py), and what each tier may do under them."""

from config.storage import HIDDEN_PREFIX, PUBLIC_PREFIXES

ORIGINALS_PREFIX = "originals/"  # uploads as received: never public, signed links only
VIDEO_PREFIXES = ("videos/", "posters/", "entries/")  # what a conversion writes
# Hiding an entry moves its video, poster and folder under hidden/; showing it moves them back.
MOVED_PREFIXES = (*VIDEO_PREFIXES, HIDDEN_PREFIX)
ALL_PREFIXES = (ORIGINALS_PREFIX, *PUBLIC_PREFIXES, HIDDEN_PREFIX)

__all__ = [
    "ALL_PREFIXES",
    "HIDDEN_PREFIX",
    "MOVED_PREFIXES",
    "ORIGINALS_PREFIX",
    "PUBLIC_PREFIXES",
    "VIDEO_PREFIXES",
]
