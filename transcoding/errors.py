"""Errors raised by the pipeline.

Every error carries `.reason`, a sentence that can be shown to the person who uploaded the
video, and `.permanent`, which tells the caller whether trying again could help.
"""


class TranscodingError(Exception):
    permanent: bool = False

    def __init__(self, reason: str, *, detail: str = "", permanent: bool | None = None) -> None:
        # `detail` (e.g. the last lines ffmpeg printed) is for logs, not for end users.
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.reason} [{self.detail}]" if self.detail else self.reason


class InvalidMedia(TranscodingError):
    """Not a video we can read: garbage, damaged, no video stream or a format we refuse."""

    permanent = True


class ConversionTimeout(TranscodingError):
    """ffmpeg ran longer than its time limit and was killed."""

    permanent = False


class ConversionFailed(TranscodingError):
    """ffmpeg exited with an error, or its output is not a playable MP4."""


class FFmpegNotFound(TranscodingError):
    """No ffmpeg binary could be found: a server set-up problem, not the uploader's."""

    permanent = False
