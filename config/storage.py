"""Where files live: local folders in the data folder (embedded), or S3 + CloudFront."""

from pathlib import Path


def storages(config: dict[str, str], data_dir: Path) -> dict:
    """Django's STORAGES: "default" is public (banners, videos, posters), "originals" private."""
    media = data_dir / "media"
    return {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": media / "public",
                "base_url": "/media/",
                "allow_overwrite": True,
            },
        },
        "originals": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media / "originals", "base_url": None, "allow_overwrite": True},
        },
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }


def serves_media(config: dict[str, str]) -> bool:
    """The web process serves public files itself only when they are on its own disk."""
    return not config["s3_url"]
