"""Changes to the catalog: images (with their thumbnails, made once here)."""

from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import transaction
from PIL import Image

from o2o_site.cache import stamps

from .images import stored_name, validate_product_image
from .models import Product, ProductImage

THUMBNAIL_SIZE = (400, 400)


def make_thumbnail(image_file: File, *, size: tuple[int, int] = THUMBNAIL_SIZE) -> ContentFile:
    image_file.seek(0)
    with Image.open(image_file) as original:
        picture = original.convert("RGB")
        picture.thumbnail(size)
        out = BytesIO()
        picture.save(out, format="JPEG", quality=82, optimize=True)
    image_file.seek(0)
    return ContentFile(out.getvalue())


def catalog_changed() -> None:
    """Products, prices, categories or pictures changed: cached catalog fragments are out of
    date once the current transaction commits. Every catalog write calls this (the admin's
    saves, imports, image services)."""
    stamps.bump(stamps.CATALOG)


def add_product_image(*, product: Product, image_file: File, alt_text: str = "", position: int = 0) -> ProductImage:
    """Store an image for `product` and its thumbnail, so pages never resize on request.

    Only real pictures within the limits are stored (catalog.images; raises ValidationError).
    """
    name = stored_name(Path(image_file.name).name, validate_product_image(image_file))
    with transaction.atomic():
        picture = ProductImage(product=product, alt_text=alt_text or product.name, position=position)
        picture.image.save(name, image_file, save=False)
        picture.thumbnail.save(f"{Path(name).stem}.jpg", make_thumbnail(picture.image.file), save=False)
        picture.save()
        catalog_changed()
    return picture


def refresh_thumbnail(*, picture: ProductImage) -> ProductImage:
    """Remake a thumbnail after the image itself was replaced (e.g. in the admin)."""
    picture.thumbnail.save(f"{Path(picture.image.name).stem}.jpg", make_thumbnail(picture.image.file), save=False)
    picture.save(update_fields=["thumbnail"])
    catalog_changed()
    return picture
