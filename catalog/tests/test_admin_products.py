"""Product images added in the admin get their thumbnail once, through catalog.services."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import ProductImage
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def photo(name, size=(1200, 900), colour=(200, 30, 30)):
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def product_form_data(product, **images):
    data = {
        # One name and description per shop language (django-modeltranslation); English is required.
        "name_en": product.name,
        "name_is": "",
        "name_nb": "",
        "slug": product.slug,
        "sku": product.sku,
        "category": product.category_id,
        "price": str(product.price),
        "vat_class": product.vat_class,
        "description_en": product.description,
        "description_is": "",
        "description_nb": "",
        "is_active": "on",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    data.update(images)
    return data


def test_an_image_uploaded_on_the_product_page_gets_its_thumbnail(admin_client):
    # given a product without pictures
    product = ProductFactory(name="Lopi mittens")

    # when the superuser uploads a large photo on the product's page
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form_data(product, **{"images-0-image": photo("mittens.png"), "images-0-position": "0"}),
    )

    # then the picture is stored with a thumbnail no larger than the thumbnail size
    assert response.status_code == 302
    picture = ProductImage.objects.get(product=product)
    assert picture.alt_text == "Lopi mittens"
    with Image.open(picture.thumbnail.path) as thumbnail:
        assert max(thumbnail.size) == 400


def test_replacing_an_image_remakes_its_thumbnail(admin_client):
    # given a product with a red picture
    product = ProductFactory(name="Lopi mittens")
    admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form_data(product, **{"images-0-image": photo("red.png"), "images-0-position": "0"}),
    )
    picture = ProductImage.objects.get(product=product)

    # when the image is replaced by a blue one
    admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form_data(
            product,
            **{
                "images-INITIAL_FORMS": "1",
                "images-0-id": str(picture.pk),
                "images-0-product": str(product.pk),
                "images-0-image": photo("blue.png", colour=(20, 40, 220)),
                "images-0-alt_text": "Blue mittens",
                "images-0-position": "0",
            },
        ),
    )

    # then the thumbnail shows the new picture
    picture.refresh_from_db()
    assert picture.alt_text == "Blue mittens"
    with Image.open(picture.thumbnail.path) as thumbnail:
        red, green, blue = thumbnail.convert("RGB").getpixel((10, 10))
    assert blue > 180 and red < 60


def test_staff_set_a_products_vat_class_on_its_page(admin_client):
    # given coffee entered at the default, standard rate
    coffee = ProductFactory(name="Coffee")
    assert coffee.vat_class == "standard"

    # when staff choose the reduced (food) rate on its page
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[coffee.pk]),
        {**product_form_data(coffee), "images-TOTAL_FORMS": "0", "vat_class": "reduced"},
    )

    # then it is kept, and the product list can be filtered by it
    assert response.status_code == 302
    coffee.refresh_from_db()
    assert coffee.vat_class == "reduced"
    listing = admin_client.get(reverse("admin:catalog_product_changelist") + "?vat_class__exact=reduced")
    assert "Coffee" in listing.content.decode()
