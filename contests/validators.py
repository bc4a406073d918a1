"""Checks on text that people type, shared by the model fields, the page forms and the API.

Names end up in email subjects and headers, so they must hold one line of printable text: a
line break there would let someone add headers, and the mail library refuses the message. Longer
texts may hold line breaks and tabs, but never other control characters (NUL, ESC...) nor the
invisible direction overrides that make a text read differently from what it holds.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
DIRECTION_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")


def _forbidden(text: str, allowed: frozenset[str]) -> bool:
    for char in text:
        if char in allowed:
            continue
        if char in DIRECTION_OVERRIDES or char in LINE_BREAKS:
            return True
        if unicodedata.category(char) == "Cc":
            return True
    return False


def validate_single_line(value: str) -> None:
    """One line of printable text: for names and anything that may reach an email header."""
    if value and _forbidden(value, frozenset()):
        raise ValidationError(
            _("Use one line of plain text: no line breaks or control characters."),
            code="control_characters",
        )


def validate_text(value: str) -> None:
    """Free text (descriptions, messages): line breaks and tabs, no other control characters."""
    if value and _forbidden(value, frozenset("\n\r\t")):
        raise ValidationError(
            _("The text holds control characters; remove them and try again."),
            code="control_characters",
        )


def validate_banner(image) -> None:
    """A banner within the size and pixel limits (docs/SECURITY.md: max_banner_mb/pixels), in
    a picture format we decode, judged from its size and header before anything decodes it
    (contests.banners). A file already stored was judged when it came."""
    from contests.banners import banner_check

    if getattr(image, "_committed", False):
        return
    banner_check(image)


def without_null_check(field):
    """Drop the NUL check Django's and DRF's text fields run first, in words of their own, so
    every control character is refused by the validators above, in one message on the pages
    and in the API. Works on form fields and serializer fields; returns the field."""
    field.validators = [
        validator
        for validator in field.validators
        if not isinstance(validator, ProhibitNullCharactersValidator)
    ]
    return field
