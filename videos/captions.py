"""Caption files: WebVTT or SRT in (told apart by their content, not their name), WebVTT out.

Parsed with webvtt-py; written back with only what players need (times, known cue settings, text
with <b>, <i>, <u> and <v> tags), so nothing else in an uploaded file reaches a browser: no
STYLE (CSS) or REGION blocks, no comments, no other markup.
"""

import io
import re

import webvtt
from django.core.exceptions import ValidationError
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from webvtt.errors import MalformedCaptionError, MalformedFileError

MAX_BYTES = 512 * 1024
MAX_CUES = 5000

# A short BCP 47 tag: a language, then subtags (region, script...): en, es-419, pt-BR, zh-Hant.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
# "WEBVTT" alone on the first line or followed by a space or tab (not "WEBVTTX").
WEBVTT_HEADER = re.compile(r"WEBVTT(?:[ \t]|\r|\n|$)")
# A tag starts right after "<"; "a < b" is text.
TAG = re.compile(r"<([^<>\s][^<>]*)>")
# Bold, italic, underline: kept bare (classes and attributes dropped).
KEPT_TAG = re.compile(r"(/?)([biu])(?:[.\s][^<>]*)?")
VOICE = re.compile(r"v(?:\.[^\s]*)?[ \t]+([^<>]+)")  # <v Speaker>, who is talking
# "&" not starting a character reference ("&amp;", "&#233;") is a literal one: escaped.
LONE_AMPERSAND = re.compile(r"&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#[xX][0-9A-Fa-f]+;)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# SRT files made from ASS subtitles often carry override codes such as {\an8}: not text.
ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")


def captions_check(*, content: bytes, language: str) -> tuple[str, str]:
    """The WebVTT and the language tag to store; a ValidationError by field (`file`,
    `language`) names every problem at once."""
    errors = {}
    try:
        text = captions_to_webvtt(content)
    except ValidationError as error:
        errors["file"] = error.messages
    try:
        language = captions_language_clean(language)
    except ValidationError as error:
        errors["language"] = error.messages
    if errors:
        raise ValidationError(errors)
    return text, language


def captions_read(upload) -> bytes:
    """An uploaded file's bytes, one past the limit at most: enough to tell it is too large."""
    upload.seek(0)
    return upload.read(MAX_BYTES + 1)


def captions_to_webvtt(content: bytes) -> str:
    """WebVTT text from the bytes of a WebVTT or SRT file, or a ValidationError saying why not."""
    if len(content) > MAX_BYTES:
        raise ValidationError(
            _("The captions file is larger than %(size)s KB.") % {"size": MAX_BYTES // 1024},
            code="too_large",
        )
    try:
        text = content.decode("utf-8-sig")  # with or without a byte order mark
    except UnicodeDecodeError:
        raise ValidationError(_("The captions file is not UTF-8 text."), code="not_text") from None
    text = text.lstrip()  # blank lines before the header are a common slip, harmless
    is_webvtt = WEBVTT_HEADER.match(text) is not None
    try:
        if is_webvtt:
            # Strict: a cue with a wrong time or setting is refused, not silently left out.
            parsed = webvtt.WebVTT.from_string(text, strict=True)
        else:
            parsed = webvtt.WebVTT.from_buffer(io.StringIO(text), format="srt")
    except MalformedFileError:
        raise ValidationError(
            _("This is not a captions file: send WebVTT (.vtt) or SRT (.srt)."),
            code="not_captions",
        ) from None
    except MalformedCaptionError:
        raise ValidationError(
            _(
                "The captions file has a cue that cannot be read: check its times (such as "
                "00:01:02.500 --> 00:01:04.000) and settings."
            ),
            code="bad_cue",
        ) from None
    if len(parsed.captions) > MAX_CUES:
        raise ValidationError(
            _("The captions file has more than %(count)s cues.") % {"count": MAX_CUES},
            code="too_many_cues",
        )
    cues = []
    for number, caption in enumerate(parsed.captions, start=1):
        if caption.end_time <= caption.start_time:
            raise ValidationError(
                _("Cue %(number)s (%(start)s --> %(end)s) must end after it starts.")
                % {"number": number, "start": caption.start, "end": caption.end},
                code="ends_before_start",
            )
        lines = [line for line in map(_clean_line, caption.lines) if line.strip()]
        if lines:  # a cue left without text shows nothing
            cues.append(
                webvtt.Caption(
                    caption.start, caption.end, lines, settings=_clean_settings(caption.settings)
                )
            )
    if not cues:
        raise ValidationError(_("The captions file has no cues."), code="no_cues")
    # Players expect cues in the order they start; sorted() keeps equal starts in file order.
    cues = sorted(cues, key=lambda cue: cue.start_time)
    return webvtt.WebVTT(captions=cues).content


def _clean_line(line: str) -> str:
    """A line of cue text with only the tags we keep, and every other "<", ">", "&" escaped."""
    line = ASS_OVERRIDE.sub("", CONTROL.sub("", line))
    parts = []
    position = 0
    for tag in TAG.finditer(line):
        parts.append(_escape(line[position : tag.start()]))
        parts.append(_clean_tag(tag[1].strip()))
        position = tag.end()
    parts.append(_escape(line[position:]))
    return "".join(parts)


def _clean_tag(inside: str) -> str:
    if kept := KEPT_TAG.fullmatch(inside):
        return f"<{kept[1]}{kept[2]}>"
    if inside == "/v":
        return "</v>"
    if voice := VOICE.fullmatch(inside):
        return f"<v {_escape(voice[1].strip())}>"
    return ""  # any other markup goes; its text stays


def _escape(text: str) -> str:
    return LONE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _clean_settings(settings) -> str:
    """The cue's placement (line, position, size, align, vertical), valid values only; region is
    dropped with the REGION blocks it names."""
    names = ("vertical", "line", "position", "size", "align")
    return " ".join(
        f"{name}:{value}" for name in names if (value := getattr(settings, name)) is not None
    )


def captions_language_clean(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(
            _("Enter the language of the captions, such as en, es or pt-BR."), code="required"
        )
    if len(value) > 35 or not LANGUAGE_TAG.fullmatch(value):
        raise ValidationError(
            _("“%(value)s” is not a language tag: enter one such as en, es or pt-BR.")
            % {"value": value[:40]},
            code="invalid",
        )
    return value


def captions_label(language: str) -> str:
    """The language's own name ("Español") for a player's captions menu; the tag when Django
    does not know it."""
    try:
        return get_language_info(language.lower())["name_local"]
    except KeyError:
        return language
