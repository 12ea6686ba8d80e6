"""Only real pictures become product images: no HTML or SVG in disguise, no huge files or bombs."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from catalog.images import MAX_IMAGE_BYTES, validate_product_image
from catalog.models import ProductImage
from catalog.services import add_product_image
from catalog.tests.factories import ProductFactory
from catalog.tests.test_admin_products import product_form_data

pytestmark = pytest.mark.django_db


def picture_bytes(image_format, size=(60, 40), mode="RGB"):
    out = BytesIO()
    Image.new(mode, size).save(out, format=image_format)
    return out.getvalue()


def upload(name, content, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/admin/')</script></body></html>"


@pytest.mark.parametrize(
    ("image_format", "name"),
    [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp"), ("GIF", "a.gif"), ("JPEG", "A.JPEG")],
)
def test_real_pictures_are_accepted(image_format, name):
    assert validate_product_image(upload(name, picture_bytes(image_format))) == image_format


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("mittens.jpg", HTML, "markup"),
        ("mittens.png", SVG, "markup"),
        ("mittens.svg", SVG, "extension"),
        ("mittens.html", picture_bytes("PNG"), "extension"),
        ("mittens", picture_bytes("PNG"), "extension"),
        ("mittens.gif", picture_bytes("GIF") + HTML, "markup"),
        ("mittens.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "invalid"),
        ("mittens.png", picture_bytes("PNG")[:60], "invalid"),
        ("mittens.jpg", b"just some text, not a picture at all", "invalid"),
        ("mittens.jpg", b"", "invalid"),
        ("mittens.png", picture_bytes("BMP"), "format"),
        ("mittens.png", picture_bytes("TIFF"), "format"),
    ],
    ids=[
        "html-named-jpg",
        "svg-named-png",
        "svg",
        "png-named-html",
        "no-extension",
        "gif-with-html-appended",
        "jpeg-header-only",
        "truncated-png",
        "text",
        "empty",
        "bmp",
        "tiff",
    ],
)
def test_anything_else_is_refused_with_a_reason(name, content, code):
    with pytest.raises(ValidationError) as refused:
        validate_product_image(upload(name, content))
    assert refused.value.code == code
    assert refused.value.messages[0]


def test_a_file_over_8_mb_is_refused_before_it_is_read():
    with pytest.raises(ValidationError) as refused:
        validate_product_image(upload("huge.jpg", b"\xff\xd8" + b"\x00" * MAX_IMAGE_BYTES))
    assert refused.value.code == "too_large"
    assert "at most 8 MB" in refused.value.messages[0]


def test_the_size_of_a_refused_picture_is_written_the_staffs_way():
    # when staff reading the admin in Icelandic upload a 9.5 MB picture
    nine_and_a_half_mb = MAX_IMAGE_BYTES + MAX_IMAGE_BYTES * 3 // 16
    with translation.override("is"), pytest.raises(ValidationError) as refused:
        validate_product_image(upload("huge.jpg", b"\xff\xd8" + b"\x00" * nine_and_a_half_mb))

    # then the size has an Icelandic decimal comma
    assert "Myndin er 9,5 MB" in refused.value.messages[0]


def test_a_decompression_bomb_is_refused_on_its_declared_size():
    # given a tiny PNG that declares 10,000 × 10,000 pixels (100 megapixels, a few kB compressed)
    bomb = picture_bytes("PNG", size=(10_000, 10_000), mode="1")
    assert len(bomb) < 100_000

    # then it is refused without being decoded
    with pytest.raises(ValidationError) as refused:
        validate_product_image(upload("bomb.png", bomb))
    assert refused.value.code == "too_many_pixels"


def test_a_picture_over_40_megapixels_is_refused_though_pillow_would_open_it():
    # given an 8,000 × 6,000 PNG: 48 megapixels, under the ~89 at which Pillow itself warns
    big = picture_bytes("PNG", size=(8_000, 6_000), mode="1")

    # then the shop's own limit refuses it
    with pytest.raises(ValidationError) as refused:
        validate_product_image(upload("big.png", big))
    assert refused.value.code == "too_many_pixels"
    assert "8000 × 6000 pixels; at most 40 megapixels" in refused.value.messages[0]


def test_the_service_refuses_a_disguised_file_and_stores_nothing():
    product = ProductFactory()
    with pytest.raises(ValidationError):
        add_product_image(product=product, image_file=upload("photo.jpg", HTML))
    assert not ProductImage.objects.filter(product=product).exists()


def test_the_service_names_the_file_after_what_it_really_is():
    # given a PNG uploaded with a .jpg name
    product = ProductFactory()
    picture = add_product_image(product=product, image_file=upload("photo.jpg", picture_bytes("PNG")))

    # then it is stored as .png, so it is served with the right content type
    assert picture.image.name.endswith(".png")


@pytest.mark.parametrize(
    ("name", "content"),
    [("photo.jpg", SVG), ("photo.gif", picture_bytes("GIF") + HTML)],
    ids=["svg-named-jpg", "gif-with-html-appended"],
)
def test_the_admin_refuses_a_script_smuggled_in_as_a_picture(admin_client, name, content):
    # given a product, and a "photo" that is really an SVG with a script, or a real GIF with a
    # web page after it (Pillow, and so Django's own image field, would take that one)
    product = ProductFactory(name="Lopi mittens")

    # when the superuser uploads it on the product page
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form_data(product, **{"images-0-image": upload(name, content), "images-0-position": "0"}),
    )

    # then the form shows why, and nothing is stored
    assert response.status_code == 200
    errors = [error for form in response.context["inline_admin_formsets"][0].formset.errors for error in form.values()]
    assert errors
    assert not ProductImage.objects.filter(product=product).exists()
