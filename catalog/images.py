"""What counts as a product picture: a real JPEG, PNG, WebP or GIF, within size and pixel limits.

Uploaded files are served back to shoppers, so a file that is really HTML or SVG (script in
disguise, whatever its name says) must never be stored. Pillow reads the header to learn the
format and dimensions before anything is decoded, so a decompression bomb is refused on its
declared size; verify() then checks the file's structure, and a full decode catches truncation.
Used by the admin's image form and by catalog.services.add_product_image.
"""

import re
import warnings
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
# Pillow format → the extension the stored file gets (whatever the uploaded name said).
ALLOWED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
ALLOWED_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# Markup a browser might run if it ever sniffed the file as a document (polyglots included).
MARKUP = re.compile(rb"<\s*(?:script|html|svg|!doctype|iframe|body|object|embed|\?xml)\b", re.IGNORECASE)


def _reject(message, code):
    raise ValidationError(message, code=code)


def validate_product_image(image_file) -> str:
    """Check an uploaded picture; returns its format ("JPEG", …) or raises ValidationError."""
    size = getattr(image_file, "size", None)
    if size is None:
        image_file.seek(0, 2)
        size = image_file.tell()
    if size > MAX_IMAGE_BYTES:
        _reject(
            _("The picture is %(size)s MB; pictures may be at most %(limit)s MB.")
            % {
                # "9,5" in Icelandic and Norwegian, "9.5" in English
                "size": number_format(round(size / 1024 / 1024, 1), decimal_pos=1),
                "limit": MAX_IMAGE_BYTES // 1024 // 1024,
            },
            "too_large",
        )
    extension = Path(getattr(image_file, "name", "") or "").suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        _reject(_("Upload a JPEG, PNG, WebP or GIF picture."), "extension")
    image_file.seek(0)
    content = image_file.read()
    image_file.seek(0)
    if MARKUP.search(content):
        _reject(_("This file contains web page or SVG code, not just a picture."), "markup")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image_file) as picture:
                image_format = picture.format
                width, height = picture.size
                if image_format not in ALLOWED_FORMATS:
                    _reject(_("Upload a JPEG, PNG, WebP or GIF picture."), "format")
                if width * height > MAX_IMAGE_PIXELS:
                    _reject(
                        _("The picture is %(width)s × %(height)s pixels; at most %(limit)s megapixels are allowed.")
                        % {"width": width, "height": height, "limit": MAX_IMAGE_PIXELS // 1_000_000},
                        "too_many_pixels",
                    )
                picture.verify()
            image_file.seek(0)
            with Image.open(image_file) as picture:
                picture.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _reject(_("The picture is too large to open safely."), "too_many_pixels")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        _reject(_("This file is not a picture, or it is damaged."), "invalid")
    finally:
        image_file.seek(0)
    return image_format


def stored_name(original_name: str, image_format: str) -> str:
    """The file name to store: the upload's stem with the extension of what the file really is."""
    stem = Path(original_name).stem or "picture"
    return f"{stem}{ALLOWED_FORMATS[image_format]}"
