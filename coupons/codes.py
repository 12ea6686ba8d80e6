"""Coupon codes as people type them and as the shop generates them.

A code is stored normalised: NFKC, upper case, no spaces or dashes (`normalise_code`), so
" sumar-25 ", "SUMAR 25" and "sumar25" are one code. Generated codes use an alphabet without the
characters people confuse when reading a code aloud or off paper (0/O, 1/I/L, 5/S, 2/Z, 8/B), and
are shown in groups of four ("K7QX-M4HP-RT") so they are easy to copy.
"""

import re
import secrets
import unicodedata

# 25 letters and digits, none of them easy to mistake for another one.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
GENERATED_CODE_LENGTH = 10
MAX_CODE_LENGTH = 32
_SEPARATORS = re.compile(r"[\s\-_.]+")
VALID_CODE = re.compile(r"^[A-Z0-9]{3,32}$")


def normalise_code(text: str) -> str:
    """`text` as a stored code: NFKC-folded (full-width letters, non-breaking spaces), upper case,
    without spaces, dashes, dots or underscores. "  k7qx-m4hp rt" -> "K7QXM4HPRT". Returns "" for
    blank input; it never raises (a code that cannot exist is simply not found)."""
    folded = unicodedata.normalize("NFKC", text or "")
    return _SEPARATORS.sub("", folded).upper()


# Random bytes below this map evenly onto the alphabet (250 = 10 × 25); the rest are drawn again.
_EVEN_BYTES = 256 - 256 % len(CODE_ALPHABET)


def generate_code(length: int = GENERATED_CODE_LENGTH) -> str:
    """A random code of `length` characters from CODE_ALPHABET (cryptographically random:
    25^10 ≈ 10^14 codes, so a guessed code is almost never one that exists), every character
    equally likely. From os.urandom bytes a few at a time, not secrets.choice per character: a
    campaign's 100 000 codes are made while it is queued, and that took 1.7 s per 10 000."""
    characters: list[str] = []
    while len(characters) < length:
        characters += [
            CODE_ALPHABET[byte % len(CODE_ALPHABET)] for byte in secrets.token_bytes(length + 2) if byte < _EVEN_BYTES
        ]
    return "".join(characters[:length])


def display_code(code: str) -> str:
    """A stored code in groups of four for printing and e-mails: "K7QXM4HPRT" -> "K7QX-M4HP-RT"."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
