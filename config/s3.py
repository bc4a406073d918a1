"""The public storage on S3 (config/storage.py chooses it when s3_url is set).

Public files get plain URLs (CloudFront's when cf_url is set). A hidden entry's files live under
hidden/, which no bucket policy, ACL or distribution makes public: their URLs are signed S3
links for the organizer, long enough for a player's range requests through a whole viewing.
Loaded only when configured, so the embedded setup never imports boto3.
"""

from storages.backends.s3 import S3Storage

from config import aws
from config.storage import HIDDEN_PREFIX

STREAM_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "m4s": "video/mp4", "vtt": "text/vtt"}


class PublicS3Storage(S3Storage):
    def get_default_settings(self) -> dict:
        return {
            **super().get_default_settings(),
            "hidden_link_seconds": 4 * 3600,
            "cloudfront_distribution_id": None,
        }

    def get_object_parameters(self, name: str) -> dict:
        parameters = super().get_object_parameters(name)
        # Not every system's MIME table knows the stream's files (mimetypes reads it).
        content_type = STREAM_TYPES.get(name.rsplit(".", 1)[-1].lower())
        if content_type:
            parameters["ContentType"] = content_type
        if name.startswith(HIDDEN_PREFIX) and self.default_acl:
            parameters["ACL"] = "private"  # written while its entry is hidden: never public
        return parameters

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        if name.startswith(HIDDEN_PREFIX):
            return aws.s3_signed_url(self, name, seconds=self.hidden_link_seconds)
        return super().url(name, parameters, expire, http_method)
