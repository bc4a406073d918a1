"""Contest banners: checked before anything decodes them, then re-encoded by us.

What an organizer uploads is never stored as sent. Its size is checked first (max_banner_mb),
then its header (a picture format we accept, width x height within max_banner_pixels), and only
then is it decoded: the first frame, turned upright by its EXIF orientation, scaled down to fit
banner_side, and written anew as a PNG (transparency, or a small lossless drawing) or a JPEG.
The stored file's name and type are ours (banners/<slug>-<random>.jpg, image/jpeg): the
uploaded name, extension and metadata (EXIF with GPS, XMP, comments, text chunks) are dropped.
So a GIF with HTML inside named .pdf becomes a plain picture, served as image/*.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image

# Decoders a banner may reach: the common web and camera formats, nothing exotic.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")  # JPEG includes phones' MPO
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
JPEG_QUALITY = 85
# A picture drawn without loss (a logo, a drawing) stays PNG unless that makes it this big; a
# photo sent as PNG or BMP would, and becomes a JPEG a fraction of the size.
LOSSLESS_FORMATS = ("PNG", "GIF", "BMP")
PNG_AT_MOST = 1024 * 1024
# EXIF Orientation -> what turns the picture upright (as PIL.ImageOps.exif_transpose does).
T = Image.Transpose
UPRIGHT = {
    2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
    6: T.ROTATE_270, 7: T.TRANSVERSE, 8: T.ROTATE_90,
}  # fmt: skip
MAX_ICC_BYTES = 64 * 1024  # a colour profile is kept (colours), if it is of a sensible size

NOT_A_PICTURE = _("Upload a picture: JPEG, PNG, GIF, WebP or BMP.")


class Banner(SimpleUploadedFile):
    """A banner as we store it: re-encoded here, with our name and content type."""


def banner_check(upload) -> None:
    """Refuse a banner over the limits from its size and header, before decoding anything.

    ValidationError with the limit in the message (the same for the page and the API)."""
    if upload.size > settings.MAX_BANNER_BYTES:
        raise ValidationError(
            _("The banner is larger than %(size)s MB.")
            % {"size": f"{settings.MAX_BANNER_BYTES / 2**20:g}"},
            code="banner_too_large",
        )
    with _opened(upload) as picture:
        width, height = picture.size
    if width * height > settings.MAX_BANNER_PIXELS:
        raise ValidationError(
            _(
                "The banner is %(width)sx%(height)s pixels; the most accepted is %(megapixels)s "
                "megapixels."
            )
            % {"width": width, "height": height, "megapixels": _megapixels()},
            code="banner_too_many_pixels",
        )


def banner_prepare(upload) -> Banner:
    """Check an uploaded banner (banner_check) and re-encode it: the file to store."""
    if isinstance(upload, Banner):
        return upload  # already ours: the form or the API prepared it
    banner_check(upload)
    with _opened(upload) as picture:
        try:
            content, extension, content_type = _encode(picture)
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise ValidationError(_damaged(), code="invalid_image") from error
    return Banner(f"banner.{extension}", content, content_type)


@contextmanager
def _opened(upload) -> Iterator[Image.Image]:
    """The upload opened by Pillow with our decoders only; reads the header, decodes nothing.

    Pillow refuses pictures past twice Image.MAX_IMAGE_PIXELS while reading the header, before
    the size is known to us: that too is our pixel limit's refusal."""
    upload.seek(0)
    Image.init()  # registers every plugin (once), so FORMATS can name them
    try:
        picture = Image.open(upload, formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise ValidationError(
            _("The banner is larger than %(megapixels)s megapixels.")
            % {"megapixels": _megapixels()},
            code="banner_too_many_pixels",
        ) from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ValidationError(NOT_A_PICTURE, code="invalid_image") from error
    try:
        with picture:  # leaves the upload open: Pillow did not open it
            yield picture
    finally:
        upload.seek(0)


def _encode(picture: Image.Image) -> tuple[bytes, str, str]:
    """The first frame, upright, within banner_side, without metadata: PNG when transparent,
    or drawn losslessly (a logo) and small enough; JPEG otherwise (a photo). Scaled down first,
    so the full-size picture is held once (25 Mpx RGBA: 100 MB) and never copied."""
    side = settings.BANNER_SIDE
    icc = picture.info.get("icc_profile")
    lossless = picture.format in LOSSLESS_FORMATS
    orientation = picture.getexif().get(ExifTags.Base.Orientation)
    picture.seek(0)
    picture.draft("RGB", (side, side))  # JPEG decodes at a reduced scale when it can
    transparent = picture.mode in ALPHA_MODES or "transparency" in picture.info
    mode = "RGBA" if transparent else "RGB"
    if picture.mode != mode:
        picture = picture.convert(mode)  # P, L, CMYK...: resampled in colour, not by index
    picture.thumbnail((side, side))  # only ever smaller; bicubic after a fast box reduce
    if orientation in UPRIGHT:
        picture = picture.transpose(UPRIGHT[orientation])  # turned as the camera meant
    if transparent and picture.getchannel("A").getextrema()[0] == 255:
        picture = picture.convert("RGB")  # an alpha channel that hides nothing
        transparent = False
    picture.info = {}  # nothing of the upload's metadata goes along (JPEG keeps comments)
    options: dict = {"optimize": True}
    if icc and len(icc) <= MAX_ICC_BYTES:
        options["icc_profile"] = icc
    if transparent or lossless:
        output = io.BytesIO()
        picture.save(output, "PNG", **options)
        if transparent or output.tell() <= PNG_AT_MOST:
            return output.getvalue(), "png", "image/png"
    output = io.BytesIO()
    picture.save(output, "JPEG", quality=JPEG_QUALITY, progressive=True, **options)
    return output.getvalue(), "jpg", "image/jpeg"


def _megapixels() -> float:
    return round(settings.MAX_BANNER_PIXELS / 1e6, 1)


def _damaged() -> str:
    return forms.ImageField.default_error_messages["invalid_image"]


class BannerField(forms.ImageField):
    """The banner field of the contest form and, as DRF's ImageField(_DjangoImageField=...), of
    the API: one check for both, and the cleaned value is the re-encoded file to store."""

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)  # name and emptiness; not Pillow yet
        return None if upload is None else banner_prepare(upload)
