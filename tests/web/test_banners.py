"""Banners: limits applied before decoding, then re-encoded by us with our name and type, and
served from /media/ as pictures (the page and the API alike)."""

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from contests.models import Contest
from tests.test_api_contests import NEW_CONTEST
from tests.web.helpers import contest_form

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def upload(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def created(client, alice_api, via: str, banner: io.BytesIO):
    """Create a contest with this banner through the page or the API: (status, errors)."""
    if via == "api":
        answer = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "banner": banner})
        return answer.status_code, answer.json().get("errors", {}).get("banner", [])
    answer = client.post("/dashboard/contests/new/", contest_form(banner=banner))
    form = answer.context["form"] if answer.context else None
    return answer.status_code, (form.errors.get("banner", []) if form else [])


def stored_banner() -> tuple[str, bytes]:
    contest = Contest.objects.get(slug="winter-tales")
    with default_storage.open(contest.banner.name) as stored:
        return contest.banner.name, stored.read()


@pytest.fixture
def banners_before():
    def listed() -> set[str]:
        return (
            set(default_storage.listdir("banners")[1])
            if default_storage.exists("banners")
            else set()
        )

    before = listed()
    yield lambda: listed() - before


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_27_mb_bmp_is_refused_with_the_limits_message(
    alice_client, alice_api, via, banners_before
):
    bmp = encoded(Image.new("RGB", (3000, 3000), (20, 90, 160)), "BMP")
    assert len(bmp) == 27_000_054  # 3000 x 3000 x 3 bytes and the header: a 27 MB file
    status, errors = created(alice_client, alice_api, via, upload(bmp, "holiday.bmp"))
    assert status == (400 if via == "api" else 200)
    assert errors == ["The banner is larger than 10 MB."]
    assert not Contest.objects.exists()
    assert banners_before() == set()


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_gif_with_html_named_pdf_is_stored_as_a_picture_we_made(
    client, alice_client, alice_api, via
):
    gif = encoded(Image.new("P", (300, 100), 3), "GIF", comment=HTML)
    assert HTML in gif
    status, errors = created(alice_client, alice_api, via, upload(gif + HTML, "flyer.pdf"))
    assert status in (201, 302) and not errors

    name, data = stored_banner()
    assert name.startswith("banners/winter-tales-") and name.endswith(".png")
    assert "flyer" not in name and ".pdf" not in name
    assert HTML not in data and b"<script" not in data
    assert Image.open(io.BytesIO(data)).format == "PNG"

    served = client.get(f"/media/{name}")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("inline")
    assert served.getvalue() == data


def test_a_photo_loses_its_exif_and_is_turned_upright(alice_api):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90 degrees
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (41.0, 24.0, 0.0)  # GPS latitude
    photo = encoded(Image.new("RGB", (400, 300), "navy"), "JPEG", exif=exif, comment=b"home")
    assert b"PhoneMaker" in photo

    answer = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "banner": upload(photo, "a.jpg")})
    assert answer.status_code == 201, answer.json()
    name, data = stored_banner()
    assert name.endswith(".jpg")
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    assert picture.size == (300, 400)  # upright
    assert not picture.getexif() and "exif" not in picture.info and "comment" not in picture.info
    assert b"PhoneMaker" not in data and b"home" not in data


def test_a_big_picture_is_scaled_down_to_the_configured_side(alice_api, settings):
    settings.BANNER_SIDE = 200
    noisy = Image.frombytes("RGB", (800, 400), bytes(range(256)) * 3750)
    answer = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "banner": upload(encoded(noisy, "JPEG"), "b.jpg")}
    )
    assert answer.status_code == 201
    assert Image.open(io.BytesIO(stored_banner()[1])).size == (200, 100)


def test_transparency_is_kept_as_png(alice_client):
    logo = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    logo.paste((250, 120, 0, 255), (10, 10, 60, 50))
    response = alice_client.post(
        "/dashboard/contests/new/", contest_form(banner=upload(encoded(logo, "WEBP"), "logo.webp"))
    )
    assert response.status_code == 302
    name, data = stored_banner()
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.mode) == ("PNG", "RGBA")
    assert picture.getpixel((0, 0))[3] == 0 and picture.getpixel((30, 30))[3] == 255


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares width x height: Pillow makes it, we patch IHDR."""
    data = bytearray(encoded(Image.new("1", (8, 8)), "PNG"))
    ihdr = 12  # signature (8), length (4), then b"IHDR" and its fields
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize(
    "width, height, message",
    [
        (6000, 5000, "The banner is 6000x5000 pixels; the most accepted is 25.0 megapixels."),
        (20000, 20000, "The banner is larger than 25.0 megapixels."),  # Pillow's own bomb limit
    ],
)
@pytest.mark.parametrize("via", ["page", "api"])
def test_too_many_pixels_are_refused_from_the_header(
    alice_client, alice_api, via, width, height, message
):
    banner = upload(png_declaring(width, height), "tiny.png")
    assert created(alice_client, alice_api, via, banner)[1] == [message]


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_picture_that_does_not_decode_is_refused_not_a_server_error(alice_client, alice_api, via):
    photo = encoded(Image.frombytes("RGB", (200, 100), bytes(range(200)) * 300), "JPEG")
    status, errors = created(
        alice_client, alice_api, via, upload(photo[: len(photo) // 2], "c.jpg")
    )
    assert status == (400 if via == "api" else 200)
    assert errors and "valid image" in errors[0]


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_format_we_do_not_decode_is_refused(alice_client, alice_api, via):
    tiff = encoded(Image.new("RGB", (20, 20)), "TIFF")
    status, errors = created(alice_client, alice_api, via, upload(tiff, "b.tif"))
    assert status == (400 if via == "api" else 200)
    assert errors == ["Upload a picture: JPEG, PNG, GIF, WebP or BMP."]


def test_a_banner_stored_before_re_encoding_is_sent_as_a_download(client, db):
    name = default_storage.save("banners/old-1234.pdf", ContentFile(HTML))
    try:
        served = client.get(f"/media/{name}")
    finally:
        default_storage.delete(name)
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"] == 'attachment; filename="old-1234.pdf"'
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "language, advice",
    [("en", "best 1920 × 640 pixels"), ("es", "mejor 1920 × 640 píxeles")],
)
def test_the_form_says_what_banner_fits_the_page(alice_client, settings, language, advice):
    settings.BANNER_SIDE = 1920
    page = alice_client.get("/dashboard/contests/new/", HTTP_ACCEPT_LANGUAGE=language)
    assert advice in page.content.decode()
    assert "aria-describedby" in page.content.decode().split('name="banner"')[1].split(">")[0]
