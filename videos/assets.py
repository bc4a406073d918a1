"""What is made beside an entry's MP4 and poster, in one folder of the public storage.

entries/<id>/ (hidden/entries/<id>/ while the entry is hidden) holds:
- thumb-320.jpg, thumb-640.jpg: the poster fitted in a 16:9 box 320 and 640 pixels wide, for
  galleries (made before the entry is ready);
- master.m3u8: the HLS stream (fMP4), whose renditions share one audio playlist: the MP4's
  own picture packaged as it is, and a smaller one (360 lines) when the MP4 is larger;
- storyboard.jpg and storyboard.vtt: a sprite of small frames and the WebVTT thumbnail track
  that points into it, for previews while scrubbing.
The stream and storyboard are made after the entry is ready (Video.streams_status).
"""

from videos.models import Video

FOLDER = "entries/"
THUMBNAIL_WIDTHS = (320, 640)
MASTER_PLAYLIST = "master.m3u8"
STORYBOARD_TRACK = "storyboard.vtt"
STORYBOARD_IMAGE = "storyboard.jpg"


def folder_for(video: Video) -> str:
    return f"{FOLDER}{video.id}/"


def thumbnail_name(width: int) -> str:
    return f"thumb-{width}.jpg"


def _url(video: Video, name: str) -> str | None:
    # Only a public entry's: a hidden entry's folder is private, and the organizer plays the
    # MP4 (its playlists' relative links cannot carry one signed link per file).
    if not video.assets or not video.is_public:
        return None
    return video.converted.storage.url(video.assets + name)


def thumbnail_urls(video: Video) -> dict[int, str]:
    """{width: url} of the entry's thumbnails; empty when it has none."""
    urls = {width: _url(video, thumbnail_name(width)) for width in THUMBNAIL_WIDTHS}
    return {width: url for width, url in urls.items() if url}


def stream_url(video: Video) -> str | None:
    """The HLS master playlist, once made."""
    if video.streams_status != Video.StreamsStatus.READY:
        return None
    return _url(video, MASTER_PLAYLIST)


def storyboard_url(video: Video) -> str | None:
    """The WebVTT thumbnail track (its cues point into storyboard.jpg beside it), once made."""
    if video.streams_status != Video.StreamsStatus.READY:
        return None
    return _url(video, STORYBOARD_TRACK)
