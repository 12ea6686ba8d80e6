"""Product pictures for the demo: a simple drawing of the product (a sweater, boots, a tent, a mug…)
in its own colour on its category's colour, with its name below.

Drawn with Pillow's shapes at twice the size and halved, so edges are smooth; about 15 ms a
picture, so seeding stays quick. Which drawing a product gets is read from its English name
(`kind_of`); each drawing is made in a 400 × 400 box that `Pen` places on the card.
"""

import hashlib
import math
import re
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from .data import DemoProduct

SIZE = 600
SCALE = 2  # drawn at SIZE × SCALE, then reduced: smooth edges without Pillow's slow filters

# DejaVu Sans Bold (demo/fonts, its licence beside it): Pillow's built-in font has no ð, æ, ø, þ,
# á or ö, which Icelandic and Norwegian product names are full of.
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold.ttf"


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


# Colours named in product variants, so a "moss green" sweater is drawn moss green.
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
# Everything else (flavours, scents) gets a colour picked from the name.
PALETTE = ("#6b8f71", "#b5654a", "#4f6d8f", "#a88b3d", "#7a5c8a", "#3f7f7f", "#9c4f5f", "#5a6b3b")

# Each category's colour: the card behind the drawing (light, so the name below reads well).
CATEGORY_COLOURS = {
    "knitwear": "#efe4d3",
    "outerwear": "#dde6ee",
    "base-layers": "#ece3ec",
    "hats-gloves": "#f2e6dc",
    "tents": "#dfeadf",
    "sleeping-bags": "#e2e4f0",
    "backpacks": "#e8ebdc",
    "footwear": "#eee2d6",
    "blankets": "#f0e8d8",
    "ceramics": "#e0ebee",
    "candles": "#f6ecd4",
    "coffee-tea": "#ece1d6",
    "chocolate": "#eadbd6",
    "pantry": "#eee9d6",
}
DEPARTMENT_COLOURS = {"clothing": "#ebe6e0", "outdoor": "#e2eadf", "home": "#efe8dc", "food-drink": "#efe4d8"}
INK = "#1c1c1e"


def card_colour(product: DemoProduct) -> str:
    """The product's own colour: its colour variant, or one picked from its name."""
    if product.variant in NAMED_COLOURS:
        return NAMED_COLOURS[product.variant]
    digest = hashlib.sha256(product.name.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _mix(colour: str, other: str, share: float) -> str:
    """`colour` with `share` of `other` mixed in."""
    mixed = (round(a + (b - a) * share) for a, b in zip(_rgb(colour), _rgb(other), strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _is_dark(hex_colour: str) -> bool:
    red, green, blue = _rgb(hex_colour)
    return 0.299 * red + 0.587 * green + 0.114 * blue < 150


class Pen:
    """Draws in a 400 × 400 box placed on the card at (left, top), `zoom` times its size."""

    def __init__(self, draw: ImageDraw.ImageDraw, *, colour: str, left: float, top: float, zoom: float):
        self.draw, self.left, self.top, self.zoom = draw, left, top, zoom
        self.fill = colour
        self.line = _mix(colour, "#ffffff", 0.45) if _is_dark(colour) else _mix(colour, "#000000", 0.45)
        self.shade = _mix(colour, "#000000", 0.22)
        self.light = _mix(colour, "#ffffff", 0.35)
        self.width = max(1, round(5 * zoom))

    def _xy(self, points):
        return [(self.left + x * self.zoom, self.top + y * self.zoom) for x, y in points]

    def _box(self, box):
        (x0, y0), (x1, y1) = self._xy([box[:2], box[2:]])
        return (x0, y0, x1, y1)

    def polygon(self, points, fill=None):
        self.draw.polygon(self._xy(points), fill=fill or self.fill, outline=self.line, width=self.width)

    def rectangle(self, box, radius=0, fill=None):
        self.draw.rounded_rectangle(
            self._box(box), radius=radius * self.zoom, fill=fill or self.fill, outline=self.line, width=self.width
        )

    def ellipse(self, box, fill=None, outline=True):
        self.draw.ellipse(
            self._box(box), fill=fill or self.fill, outline=self.line if outline else None, width=self.width
        )

    def chord(self, box, start, end, fill=None):
        self.draw.chord(self._box(box), start, end, fill=fill or self.fill, outline=self.line, width=self.width)

    def arc(self, box, start, end, width=5, fill=None):
        self.draw.arc(self._box(box), start, end, fill=fill or self.line, width=max(1, round(width * self.zoom)))

    def lines(self, points, width=5, fill=None):
        self.draw.line(self._xy(points), fill=fill or self.line, width=max(1, round(width * self.zoom)), joint="curve")


# --- the drawings, each in a 400 × 400 box ------------------------------------------------------


def _sleeved_top(pen: Pen, *, sleeve_end: int = 330, hood: bool = False, buttons: bool = False, yoke: bool = False):
    pen.polygon([(110, 70), (30, sleeve_end), (85, sleeve_end + 12), (130, 160)])
    pen.polygon([(290, 70), (370, sleeve_end), (315, sleeve_end + 12), (270, 160)])
    pen.rectangle((100, 60, 300, 370), radius=28)
    if hood:
        pen.chord((140, 10, 260, 120), 180, 360, fill=pen.shade)
    pen.ellipse((160, 42, 240, 92), fill=pen.shade)
    if yoke:  # a lopapeysa's round yoke: a band of triangles over a row of dots
        for x in range(115, 285, 28):
            pen.polygon([(x, 130), (x + 12, 106), (x + 24, 130)], fill=pen.light)
        for x in range(121, 290, 28):
            pen.ellipse((x, 142, x + 12, 154), fill=pen.light, outline=False)
    if buttons:
        pen.lines([(200, 92), (200, 370)], width=4)
        for y in range(130, 360, 55):
            pen.ellipse((192, y, 208, y + 16), fill=pen.light)
    pen.lines([(110, 345), (290, 345)], width=4)


def sweater(pen):
    _sleeved_top(pen, yoke=True)


def cardigan(pen):
    _sleeved_top(pen, buttons=True)


def jacket(pen):
    _sleeved_top(pen, hood=True, buttons=True)
    pen.rectangle((125, 250, 175, 300), radius=6, fill=pen.shade)
    pen.rectangle((225, 250, 275, 300), radius=6, fill=pen.shade)


def vest(pen):
    pen.rectangle((100, 60, 300, 370), radius=28)
    pen.ellipse((150, 35, 250, 100), fill=pen.shade)
    for y in range(120, 360, 50):
        pen.lines([(100, y), (300, y)], width=4)
    pen.lines([(200, 100), (200, 370)], width=5)


def tshirt(pen):
    _sleeved_top(pen, sleeve_end=170)


def leggings(pen):
    pen.polygon([(120, 40), (280, 40), (290, 380), (225, 380), (200, 150), (175, 380), (110, 380)])
    pen.rectangle((118, 40, 282, 75), radius=8, fill=pen.shade)


def socks(pen):
    for dx, fill in ((60, pen.shade), (0, None)):
        pen.polygon(
            [
                (120 + dx, 30),
                (210 + dx, 30),
                (210 + dx, 250),
                (170 + dx, 340),
                (60 + dx, 340),
                (60 + dx, 280),
                (120 + dx, 230),
            ],
            fill=fill,
        )
        pen.rectangle((118 + dx, 30, 212 + dx, 80), radius=6, fill=pen.light)


def scarf(pen):
    pen.polygon([(90, 60), (310, 60), (310, 130), (90, 130)])
    pen.polygon([(230, 110), (300, 110), (290, 350), (220, 350)])
    pen.polygon([(120, 110), (190, 110), (175, 300), (105, 300)], fill=pen.shade)
    for x in range(225, 295, 14):
        pen.lines([(x, 350), (x - 2, 385)], width=4)
    for x in range(110, 180, 14):
        pen.lines([(x, 300), (x - 2, 335)], width=4)


def beanie(pen):
    pen.chord((70, 60, 330, 380), 180, 360)
    pen.rectangle((60, 210, 340, 300), radius=20, fill=pen.shade)
    for x in range(85, 330, 30):
        pen.lines([(x, 215), (x, 295)], width=4)
    pen.ellipse((160, 20, 240, 100), fill=pen.light)


def mitten(pen):
    pen.ellipse((55, 150, 145, 260))
    pen.rectangle((100, 50, 300, 300), radius=90)
    pen.rectangle((105, 280, 295, 370), radius=12, fill=pen.shade)
    for x in range(125, 290, 25):
        pen.lines([(x, 290), (x, 360)], width=4)


def gloves(pen):
    for x in (105, 150, 195, 240):
        pen.rectangle((x, 40 + abs(x - 172) // 3, x + 45, 220), radius=22)
    pen.ellipse((40, 160, 130, 250))
    pen.rectangle((100, 150, 290, 300), radius=30)
    pen.rectangle((105, 285, 285, 370), radius=10, fill=pen.shade)


def tent(pen, *, dome: bool = False):
    pen.lines([(20, 340), (380, 340)], width=6)
    if dome:
        pen.chord((40, 90, 360, 590), 180, 360)
        pen.arc((100, 90, 300, 590), 180, 360, width=5)
        pen.chord((150, 200, 250, 480), 180, 360, fill=pen.shade)
    else:
        pen.polygon([(40, 340), (200, 60), (360, 340)])
        pen.polygon([(150, 340), (200, 160), (250, 340)], fill=pen.shade)
        pen.lines([(200, 60), (200, 30)], width=6)


def dome_tent(pen):
    tent(pen, dome=True)


def sleeping_bag(pen):
    pen.polygon([(140, 90), (260, 90), (300, 360), (100, 360)])
    pen.ellipse((130, 20, 270, 160))
    pen.ellipse((160, 50, 240, 130), fill=pen.shade)
    pen.lines([(250, 150), (280, 350)], width=5)
    for y in range(180, 350, 45):
        pen.lines([(120 + (y - 180) // 10, y), (280 - (y - 180) // 10, y)], width=3)


def sleeping_mat(pen):
    pen.rectangle((70, 150, 330, 290), radius=20)
    pen.ellipse((40, 150, 110, 290), fill=pen.shade)
    pen.ellipse((55, 185, 95, 255), fill=pen.light)
    pen.lines([(200, 150), (200, 290)], width=4)


def backpack(pen):
    pen.rectangle((90, 60, 310, 370), radius=50)
    pen.chord((90, 30, 310, 180), 180, 360, fill=pen.shade)
    pen.rectangle((130, 220, 270, 340), radius=20, fill=pen.shade)
    pen.lines([(150, 250), (250, 250)], width=4)
    pen.arc((160, 0, 240, 70), 180, 360, width=8)


def dry_bag(pen):
    pen.rectangle((120, 110, 280, 370), radius=40)
    for y in (60, 80):
        pen.rectangle((110, y, 290, y + 30), radius=8, fill=pen.shade)
    pen.rectangle((180, 40, 220, 140), radius=6, fill=pen.light)


def boot(pen, *, low: bool = False):
    top = 200 if low else 50
    pen.polygon([(95, top + 10), (215, top), (225, 235), (320, 262), (355, 300), (355, 350), (85, 350)])
    pen.rectangle((75, 338, 365, 372), radius=10, fill=pen.shade)
    if not low:
        pen.rectangle((92, top, 218, top + 40), radius=8, fill=pen.shade)  # the padded collar
    for y in range(top + 55, 250, 32):
        pen.lines([(175, y), (222, y + 8)], width=5, fill=pen.light)


def shoe(pen):
    boot(pen, low=True)


def blanket(pen):
    for y, fill in ((250, pen.shade), (170, None), (90, pen.light)):
        pen.rectangle((60, y, 340, y + 90), radius=16, fill=fill)
    for x in range(70, 340, 18):
        pen.lines([(x, 340), (x, 370)], width=4)


def rug(pen):
    points = []
    for step in range(24):
        radius = 150 + (18 if step % 2 else -6)
        angle = step * 15
        points.append(_on_ellipse(radius * 1.15, radius * 0.85, angle))
    pen.polygon([(200 + x, 210 + y) for x, y in points])
    pen.ellipse((120, 150, 280, 270), fill=pen.light, outline=False)


def _on_ellipse(width: float, height: float, angle: float) -> tuple[float, float]:
    return width * math.cos(math.radians(angle)), height * math.sin(math.radians(angle))


def cushion(pen):
    pen.polygon([(60, 60), (200, 85), (340, 60), (315, 200), (340, 340), (200, 315), (60, 340), (85, 200)])
    pen.rectangle((110, 110, 290, 290), radius=20, fill=pen.light)
    pen.lines([(110, 200), (290, 200)], width=4)


def mug(pen):
    pen.arc((230, 140, 340, 280), 270, 90, width=26)
    pen.rectangle((80, 110, 270, 360), radius=26)
    pen.ellipse((80, 95, 270, 130), fill=pen.shade)
    for x in (135, 175, 215):
        pen.arc((x - 20, 20, x + 20, 90), 100, 260, width=5, fill="#8a8a8a")


def bowl(pen):
    pen.chord((40, 90, 360, 360), 0, 180)
    pen.ellipse((40, 190, 360, 250), fill=pen.shade)
    pen.rectangle((150, 340, 250, 365), radius=8)


def plate(pen):
    pen.ellipse((30, 60, 370, 360))
    pen.ellipse((100, 120, 300, 300), fill=pen.light)


def espresso_cups(pen):
    for dx in (0, 170):
        pen.ellipse((20 + dx, 270, 210 + dx, 320), fill=pen.shade)
        pen.arc((135 + dx, 175, 195 + dx, 255), 270, 90, width=14)
        pen.rectangle((45 + dx, 160, 165 + dx, 295), radius=20)


def candle(pen):
    pen.polygon([(200, 40), (230, 110), (200, 140), (170, 110)], fill="#f2b134")
    pen.ellipse((188, 95, 212, 135), fill="#fbe39b", outline=False)
    pen.lines([(200, 135), (200, 165)], width=5, fill=INK)
    pen.rectangle((110, 160, 290, 370), radius=22)
    pen.rectangle((110, 230, 290, 300), radius=0, fill=pen.light)


def coffee_bag(pen):
    pen.polygon([(110, 90), (290, 90), (320, 370), (80, 370)])
    pen.rectangle((100, 50, 300, 100), radius=6, fill=pen.shade)
    pen.ellipse((160, 190, 240, 300), fill="#5a3b27")
    pen.arc((175, 195, 225, 295), 250, 110, width=5, fill="#c9a27e")


def tea(pen):
    pen.chord((70, 120, 300, 360), 0, 180)
    pen.rectangle((70, 200, 300, 245), radius=0)
    pen.arc((270, 190, 350, 290), 270, 90, width=16)
    pen.ellipse((50, 335, 320, 370), fill=pen.shade)
    pen.lines([(190, 215), (240, 60)], width=3, fill="#8a8a8a")
    pen.rectangle((215, 20, 275, 70), radius=4, fill=pen.light)


def chocolate(pen):
    pen.rectangle((70, 60, 330, 360), radius=10, fill="#4b2e22")
    for x in range(90, 320, 60):
        for y in range(80, 250, 55):
            pen.rectangle((x, y, x + 50, y + 45), radius=6, fill="#5e3a2b")
    pen.rectangle((60, 230, 340, 370), radius=8)


def liquorice(pen):
    pen.polygon([(100, 60), (300, 60), (330, 370), (70, 370)])
    pen.rectangle((90, 40, 310, 80), radius=6, fill=pen.shade)
    for cx, cy in ((150, 200), (250, 200), (200, 290), (140, 310), (260, 310)):
        pen.ellipse((cx - 35, cy - 35, cx + 35, cy + 35), fill="#1c1c1e")
        pen.arc((cx - 20, cy - 20, cx + 20, cy + 20), 0, 300, width=5, fill="#5a5a5a")


def jar(pen):
    pen.rectangle((90, 110, 310, 370), radius=40)
    pen.rectangle((100, 50, 300, 115), radius=10, fill=pen.shade)
    pen.rectangle((120, 190, 280, 290), radius=10, fill="#f6f1e6")


def flatbread(pen):
    for dy, fill in ((40, pen.shade), (0, None)):
        pen.ellipse((40, 100 + dy, 360, 300 + dy), fill=fill)
    for x, y in ((120, 170), (200, 150), (280, 180), (160, 230), (240, 235), (200, 195)):
        pen.ellipse((x - 7, y - 7, x + 7, y + 7), fill=pen.shade, outline=False)


def parcel(pen):
    pen.rectangle((70, 110, 330, 360), radius=12)
    pen.polygon([(70, 110), (200, 50), (330, 110)], fill=pen.shade)
    pen.lines([(200, 50), (200, 360)], width=8, fill=pen.light)


# The English words that say what a product is, most specific first; anything else is a parcel.
KINDS: tuple[tuple[str, Callable[[Pen], None]], ...] = (
    ("sleeping bag", sleeping_bag),
    ("sleeping mat", sleeping_mat),
    ("dry bag", dry_bag),
    ("dome tent", dome_tent),
    ("tent", tent),
    ("cardigan", cardigan),
    ("sweater", sweater),
    ("socks", socks),
    ("scarf", scarf),
    ("vest", vest),
    ("parka|jacket", jacket),
    ("t-shirt|base layer top", tshirt),
    ("leggings", leggings),
    ("beanie", beanie),
    ("mittens", mitten),
    ("gloves", gloves),
    ("daypack|backpack", backpack),
    ("running shoes", shoe),
    ("boots", boot),
    ("throw", blanket),
    ("rug", rug),
    ("cushion", cushion),
    ("mug", mug),
    ("bowl", bowl),
    ("plate", plate),
    ("espresso cup", espresso_cups),
    ("candle", candle),
    ("coffee", coffee_bag),
    ("tea", tea),
    ("chocolate", chocolate),
    ("liquorice", liquorice),
    ("jam|salt", jar),
    ("flatbread", flatbread),
)


def kind_of(product: DemoProduct) -> Callable[[Pen], None]:
    """The drawing for `product`, from the words of its English name."""
    name = product.name.lower()
    for words, drawing in KINDS:
        if re.search(rf"\b(?:{words})\b", name):
            return drawing
    return parcel


def _caption_lines(name: str, width: int, caption_font: ImageFont.FreeTypeFont) -> list[str]:
    """The name in at most two lines that fit `width` (cut with "…" beyond)."""
    lines, line = [], ""
    for word in name.split():
        candidate = f"{line} {word}".strip()
        if caption_font.getlength(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if caption_font.getlength(lines[-1]) > width:
        while lines[-1] and caption_font.getlength(lines[-1] + "…") > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines


def product_card(product: DemoProduct, *, department: str, detail: bool = False) -> ContentFile:
    """A JPEG picture of `product`; `detail` gives a second one, closer in and without the name."""
    background = CATEGORY_COLOURS.get(product.category) or DEPARTMENT_COLOURS.get(department, "#ece8e2")
    size = SIZE * SCALE
    canvas = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(canvas)
    if detail:
        pen = Pen(draw, colour=card_colour(product), left=-100 * SCALE, top=-40 * SCALE, zoom=2.0 * SCALE)
    else:
        pen = Pen(draw, colour=card_colour(product), left=110 * SCALE, top=28 * SCALE, zoom=0.95 * SCALE)
        # a shadow under the product, then the name below it
        draw.ellipse((140 * SCALE, 392 * SCALE, 460 * SCALE, 414 * SCALE), fill=_mix(background, "#000000", 0.08))
    kind_of(product)(pen)
    canvas = canvas.reduce(SCALE)
    if not detail:
        draw = ImageDraw.Draw(canvas)
        caption_font = font(30)
        lines = _caption_lines(product.name, SIZE - 60, caption_font)
        for number, line in enumerate(lines):
            y = SIZE - 125 + number * 42 + (21 if len(lines) == 1 else 0)
            draw.text((SIZE // 2, y), line, fill=INK, font=caption_font, anchor="mm")

    out = BytesIO()
    canvas.save(out, format="JPEG", quality=88)
    suffix = "-detail" if detail else ""
    return ContentFile(out.getvalue(), name=f"{product.slug}{suffix}.jpg")
