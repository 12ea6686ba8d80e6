"""Production collects the static files with the manifest storage (whitenoise), which fails on a
file that references one we do not ship (a source map a vendored library names, say)."""

from django.core.management import call_command


def test_the_static_files_collect_with_the_production_storage(settings, tmp_path):
    # given production's storage, collecting into an empty directory
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    # when collectstatic runs, as a deploy does
    call_command("collectstatic", interactive=False, verbosity=0)

    # then every file was post-processed, and the manifest names the shop's own stylesheet
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert "css/shop.css" in (tmp_path / "static" / "staticfiles.json").read_text()
