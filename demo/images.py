"""Product pictures for the demo: a coloured card with the product's initials and a simple shape."""

import hashlib
from functools import cache
from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from .data import DemoProduct, initials

SIZE = 600

# DejaVu Sans Bold (demo/fonts, its licence beside it): Pillow's built-in font has no ð, æ, ø, þ,
# á or ö, which Icelandic and Norwegian product names are full of.
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold.ttf"


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


# Colours named in product variants, so a "moss green" sweater gets a moss-green card.
NAMED_COLOURS = {
    "natural white": "#ede6d6",
    "white": "#f1efe9",
    "ash white": "#e4e1da",
    "charcoal": "#3b3f45",
    "heather grey": "#9a9a9e",
    "grey": "#8d9196",
    "moss green": "#5f7148",
    "forest green": "#2f5a3c",
    "green": "#3f7a4a",
    "olive": "#6b6b3a",
    "navy": "#1f2f4f",
    "slate blue": "#52667f",
    "petrol blue": "#1f5866",
    "sky blue": "#7fb2d9",
    "blue": "#2f6db3",
    "glacier blue": "#8fc1d4",
    "rust red": "#a4472b",
    "red": "#b8322d",
    "plum": "#5d3452",
    "mustard": "#c89a2b",
    "yellow": "#e5bd2f",
    "orange": "#e07a2b",
    "sand": "#c9b48a",
    "brown": "#6e4a2e",
    "black": "#1c1c1e",
    "lava black": "#262424",
}
# Everything else (flavours, scents, sizes) gets a colour picked from the name.
PALETTE = ("#6b8f71", "#b5654a", "#4f6d8f", "#a88b3d", "#7a5c8a", "#3f7f7f", "#9c4f5f", "#5a6b3b")

# One shape per department: a circle for clothing, a mountain for outdoor, a house for home,
# a diamond for food and drink.
SHAPES = {
    "clothing": "circle",
    "outdoor": "mountain",
    "home": "house",
    "food-drink": "diamond",
}


def card_colour(product: DemoProduct) -> str:
    if product.variant in NAMED_COLOURS:
        return NAMED_COLOURS[product.variant]
    digest = hashlib.sha256(product.name.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _is_dark(hex_colour: str) -> bool:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue < 150


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, fill: str):
    middle, radius = SIZE // 2, SIZE // 3
    if shape == "circle":
        draw.ellipse((middle - radius, middle - radius - 30, middle + radius, middle + radius - 30), fill=fill)
    elif shape == "mountain":
        draw.polygon([(70, 450), (250, 140), (340, 300), (400, 220), (530, 450)], fill=fill)
    elif shape == "house":
        draw.polygon([(130, 270), (300, 120), (470, 270)], fill=fill)
        draw.rectangle((160, 270, 440, 450), fill=fill)
    else:
        draw.polygon([(300, 90), (500, 270), (300, 450), (100, 270)], fill=fill)


def product_card(product: DemoProduct, *, department: str, detail: bool = False) -> ContentFile:
    """A JPEG card for `product`; `detail` gives a second, differently framed picture."""
    background = card_colour(product)
    dark = _is_dark(background)
    ink = "#ffffff" if dark else "#1c1c1e"
    shape_fill = "#ffffff26" if dark else "#00000022"

    canvas = Image.new("RGBA", (SIZE, SIZE), background)
    overlay = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    _draw_shape(draw, SHAPES.get(department, "diamond"), shape_fill)
    if detail:
        draw.rectangle((0, 0, SIZE, SIZE), outline=ink, width=24)
    canvas = Image.alpha_composite(canvas, overlay)

    draw = ImageDraw.Draw(canvas)
    draw.text(
        (SIZE // 2, SIZE // 2 - 30),
        initials(product.name),
        fill=ink,
        font=font(150),
        anchor="mm",
    )
    caption = product.name if len(product.name) <= 34 else product.name[:33] + "…"
    draw.text((SIZE // 2, SIZE - 70), caption, fill=ink, font=font(28), anchor="mm")

    out = BytesIO()
    canvas.convert("RGB").save(out, format="JPEG", quality=88)
    suffix = "-detail" if detail else ""
    return ContentFile(out.getvalue(), name=f"{product.slug}{suffix}.jpg")
