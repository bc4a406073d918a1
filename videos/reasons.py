"""Failure reasons are stored in English and translated when shown or emailed.

The transcoding package knows nothing of Django, so its sentences are listed here for the
translation catalogs; the tests check this list stays in step with the package.
"""

from django.utils.translation import gettext_noop

# Sentences of the transcoding package (transcoding/probe.py, isolated.py, run.py, binary.py).
# Limits (limits.py) carry numbers: videos/limits.py words them from the limit's fields.
TRANSCODING = [
    gettext_noop(
        "This type of file is not accepted. Please upload a video file such as MP4, MOV, AVI, "
        "WMV, FLV or MKV."
    ),
    gettext_noop(
        "The file could not be read as a video. It may be damaged, or it may not be a video."
    ),
    gettext_noop("The file holds no video, only sound or other data. Please upload a video file."),
    gettext_noop("The file is empty."),
    gettext_noop(
        "The video could not be converted. The file may be damaged or use a format we cannot read."
    ),
    gettext_noop("The video could not be converted because of a problem on our side."),
    gettext_noop("Converting the video took too long and was stopped."),
    gettext_noop("We could not take a preview picture from the video."),
    gettext_noop("The video converter is not installed on the server."),
    gettext_noop("The file needs more memory than this site allows to read it."),
    gettext_noop("The file took too long to read."),
    gettext_noop(
        "The file could not be checked because of a problem on our side. Please try again."
    ),
    gettext_noop("The video needs more memory than this site allows to convert it."),
    gettext_noop(
        "The file is incomplete: it ends before the size it announces, as when an upload or a "
        "copy stops early. Please upload the whole file."
    ),
    gettext_noop(
        "Most of the video could not be read: the file is damaged or incomplete after its "
        "beginning."
    ),
]

# Sentences of the worker itself (videos/services.py).
BROKE = gettext_noop("Something went wrong on our side while converting it.")
KEPT_DYING = gettext_noop("It could not be converted: the conversion stopped several times.")
