"""The participant's words for a media limit an upload went over, in the active language."""

from django.utils.translation import gettext as _

import transcoding
from transcoding.limits import format_duration, format_size


def limit_message(error: transcoding.LimitExceeded | transcoding.OutputTooLarge) -> str:
    allowed, actual = error.allowed, error.actual
    if error.limit == "duration":
        return _("The video is %(actual)s long; the longest accepted is %(allowed)s.") % {
            "actual": format_duration(actual),
            "allowed": format_duration(allowed),
        }
    if error.limit == "side":
        return _(
            "The picture is %(actual)s pixels wide or high; the most accepted is %(allowed)s."
        ) % {"actual": actual, "allowed": allowed}
    if error.limit == "pixels":
        return _(
            "The picture has %(actual)s pixels; the most accepted is %(allowed)s "
            "(%(megapixels)s megapixels)."
        ) % {"actual": actual, "allowed": allowed, "megapixels": round(allowed / 1e6, 1)}
    if error.limit == "streams":
        return _(
            "The file holds more than %(allowed)s streams (pictures, sound, subtitles…); "
            "at most %(allowed)s are accepted."
        ) % {"allowed": allowed}
    if error.limit == "frame_rate":
        return _("The video has %(actual)s frames a second; the most accepted is %(allowed)s.") % {
            "actual": round(actual, 2),
            "allowed": allowed,
        }
    if error.limit == "output_size":
        return _(
            "The converted video would be larger than %(size)s, the most this site stores."
        ) % {"size": format_size(allowed)}
    return _(error.reason)
