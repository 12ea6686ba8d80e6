"""Production is configured only through environment variables; these tests boot it that way."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "HTTPS": "true",
    "SECRET_KEY": "k3x!p9-production-like-secret-with-plenty-of-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "sqlite:////tmp/o2o-deploy-check.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587",
}


def run_manage(*args, env_overrides, unset=()):
    env = {**os.environ, **env_overrides}
    for name in ("DJANGO_SETTINGS_MODULE", *unset):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_pass_with_production_environment():
    # given the environment production sets
    # when Django's deployment checklist runs
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    # then it finds nothing to warn about
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_checks_catch_a_missing_secret_key():
    # given production settings where someone forgot SECRET_KEY
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=env, unset=["SECRET_KEY"])
    # then the check refuses to call the embedded development key deployable
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr


def test_the_shop_refuses_to_start_on_the_development_key():
    # given production settings without SECRET_KEY (the embedded development key is used)
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    # when the checks every start runs (runserver, migrate) run, without --deploy
    result = run_manage("check", env_overrides=env, unset=["SECRET_KEY"])
    # then it is an error, not a warning
    assert result.returncode != 0
    assert "o2o_site.E001" in result.stderr


def test_the_web_server_refuses_to_start_without_a_shared_cache():
    # given production settings without CACHE_URL, run by gunicorn (which runs no system checks)
    env = {**os.environ, **PRODUCTION_ENV}
    env.pop("CACHE_URL")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # when the WSGI application is loaded
    result = subprocess.run(
        [sys.executable, "-c", "import o2o_site.wsgi"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it refuses, saying why
    assert result.returncode != 0
    assert "o2o_site.E003" in result.stderr and "CACHE_URL" in result.stderr


def test_payment_providers_are_read_whatever_the_spacing_and_case():
    # given an operator who writes the list with spaces and capitals
    env = {**PRODUCTION_ENV, "PAYMENT_PROVIDERS": " Stripe , vipps ,", "STRIPE_SECRET_KEY": "sk_test_x"}
    env |= {"STRIPE_WEBHOOK_SECRET": "whsec_x", "VIPPS_CLIENT_ID": "id", "VIPPS_CLIENT_SECRET": "secret"}
    env |= {"VIPPS_SUBSCRIPTION_KEY": "key", "VIPPS_MERCHANT_SERIAL_NUMBER": "123456", "VIPPS_WEBHOOK_SECRET": "w"}
    # when the shop starts and prints what it offers
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.PAYMENT_PROVIDERS)", env_overrides=env
    )
    # then both providers are there, named as the shop knows them
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['stripe', 'vipps']"


def test_a_provider_without_its_key_stops_the_shop_naming_the_variable():
    # given Stripe listed but its secret key forgotten
    env = {**PRODUCTION_ENV, "PAYMENT_PROVIDERS": "stripe", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    # when the checks every start runs run
    result = run_manage("check", env_overrides=env, unset=["STRIPE_SECRET_KEY"])
    # then the shop refuses to start with one line naming the variable, not a traceback
    assert result.returncode != 0
    assert "payment.E003" in result.stderr
    assert "STRIPE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
