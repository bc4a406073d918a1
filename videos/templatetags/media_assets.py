"""The entries' media assets (videos.assets) and durations in templates."""

from django import template
from django.utils.translation import ngettext

from videos import assets
from videos.models import Video

register = template.Library()


@register.filter
def thumbnail(video: Video, width: int) -> str:
    """The thumbnail `width` pixels wide, else the full-size poster (an entry converted before
    thumbnails were made, or a hidden one, whose folder is private)."""
    url = assets.thumbnail_urls(video).get(int(width))
    if url:
        return url
    return video.poster.url if video.poster else ""


@register.filter
def thumbnail_srcset(video: Video) -> str:
    """The thumbnails as an <img> srcset ("url 320w, url 640w"); empty without them. Each is
    described by the width of its 16:9 box, which is what the gallery's frame shows."""
    urls = assets.thumbnail_urls(video)
    return ", ".join(f"{url} {width}w" for width, url in sorted(urls.items()))


def _parts(seconds: float) -> tuple[int, int, int]:
    total = round(seconds)
    return total // 3600, total // 60 % 60, total % 60


@register.filter
def clock(seconds: float | None) -> str:
    """A duration as a player shows it: 0:07, 1:05, 1:02:03."""
    if seconds is None:
        return ""
    hours, minutes, secs = _parts(seconds)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


@register.filter
def duration_words(seconds: float | None) -> str:
    """A duration as words, for screen readers ("1 minute 5 seconds"), which read 1:05 as a
    time of day."""
    if seconds is None:
        return ""
    hours, minutes, secs = _parts(seconds)
    words = []
    if hours:
        words.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes:
        words.append(
            ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
        )
    if secs or not words:
        words.append(ngettext("%(count)d second", "%(count)d seconds", secs) % {"count": secs})
    return " ".join(words)
