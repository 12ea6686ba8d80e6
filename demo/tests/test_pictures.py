"""The demo's product pictures show the product: a drawing of what it is (a sweater, boots, a
tent, a mug…) in its own colour on its category's, its name below in a font with Icelandic and
Norwegian letters; quick enough that seeding the demo stays quick."""

import time
from io import BytesIO

import pytest
from PIL import Image

from demo import data
from demo.images import (
    NAMED_COLOURS,
    SIZE,
    _caption_lines,
    boot,
    candle,
    dome_tent,
    font,
    kind_of,
    mug,
    parcel,
    product_card,
    scarf,
    sweater,
    tent,
)

PRODUCTS = data.generate_products()
DEPARTMENTS = {category.slug: category.parent or category.slug for category in data.CATEGORIES}


def named(words):
    return next(product for product in PRODUCTS if words in product.name)


def picture(product, **options):
    return Image.open(BytesIO(product_card(product, department=DEPARTMENTS[product.category], **options).read()))


@pytest.mark.parametrize(
    ("words", "drawing"),
    [
        ("lopapeysa wool sweater", sweater),
        ("hiking boots", boot),
        ("2-person dome tent", dome_tent),
        ("3-person tunnel tent", tent),
        ("stoneware mug", mug),
        ("scented candle", candle),
        ("wool scarf", scarf),
    ],
)
def test_a_product_is_drawn_as_what_it_is(words, drawing):
    assert kind_of(named(words)) is drawing


def test_every_demo_product_has_a_drawing_of_its_own_kind():
    # no product falls back to the plain parcel, and the catalogue shows many kinds of thing
    assert [product.name for product in PRODUCTS if kind_of(product) is parcel] == []
    assert len({kind_of(product) for product in PRODUCTS}) >= 30


def test_the_picture_is_the_product_in_its_colour_with_its_name_below():
    # given a navy sweater
    product = next(p for p in PRODUCTS if "sweater" in p.name and p.variant == "navy")

    image = picture(product)

    # then it is a square JPEG with the sweater's navy in the middle of the drawing
    assert image.format == "JPEG" and image.size == (SIZE, SIZE)
    middle = image.getpixel((SIZE // 2, SIZE // 2 - 50))
    navy = tuple(int(NAMED_COLOURS["navy"][i : i + 2], 16) for i in (1, 3, 5))
    assert all(abs(a - b) <= 12 for a, b in zip(middle, navy, strict=True)), middle
    # and dark letters in the band below it (the name), on the category's light colour
    band = image.crop((0, SIZE - 150, SIZE, SIZE - 40)).convert("L")
    assert min(band.getdata()) < 60 and max(band.getdata()) > 200
    # and its second picture is another view
    detail = picture(product, detail=True)
    assert detail.tobytes() != image.tobytes()


def test_every_name_fits_in_two_lines_with_its_icelandic_and_norwegian_letters():
    caption_font = font(30)
    for product in PRODUCTS:
        lines = _caption_lines(product.name, SIZE - 60, caption_font)
        assert 1 <= len(lines) <= 2, product.name
        assert all(caption_font.getlength(line) <= SIZE - 60 for line in lines), product.name
    assert any("ð" in product.name or "æ" in product.name for product in PRODUCTS)


def test_drawing_the_whole_catalogue_is_quick():
    started = time.perf_counter()
    for product in PRODUCTS:
        product_card(product, department=DEPARTMENTS[product.category])
    # about 7 ms a picture here; seed_demo draws each product once (and every fifth twice)
    assert (time.perf_counter() - started) / len(PRODUCTS) < 0.05
