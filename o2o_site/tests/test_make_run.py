"""`make run` serves the demo where it says and its e-mails link there: PORT and HOST change both
the address and the links, and HOST=0.0.0.0 (to try the shop from a phone on the same network)
answers under this machine's address with links to it."""

import os
import stat
import subprocess

from django.conf import settings

# Stands in for the virtualenv's python in every `make run` step: prints what the step would see.
REPORT_ENVIRONMENT = """#!/bin/sh
echo "step: $*"
echo "SITE_URL=$SITE_URL ALLOWED_HOSTS=$ALLOWED_HOSTS ENV_FILE=[$ENV_FILE] DEBUG=$DEBUG"
"""


def make_run(tmp_path, *arguments):
    python = tmp_path / "python"
    python.write_text(REPORT_ENVIRONMENT)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    environment = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "ALLOWED_HOSTS")}
    result = subprocess.run(
        # -o: the requirements count as installed (this test installs nothing)
        ["make", "--no-print-directory", "-o", ".venv/.installed-requirements", "run", f"PY={python}", *arguments],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    steps = result.stdout.split("step: ")
    [server] = [step for step in steps if step.startswith("manage.py runserver")]
    return server


def test_make_run_links_to_the_port_it_serves_on(tmp_path):
    server = make_run(tmp_path, "PORT=8123")

    assert server.startswith("manage.py runserver 127.0.0.1:8123\n")
    assert "SITE_URL=http://127.0.0.1:8123 " in server
    assert "ALLOWED_HOSTS=127.0.0.1,localhost " in server
    # on the embedded defaults, whatever a .env says
    assert "ENV_FILE=[] DEBUG=true" in server


def test_served_on_every_address_it_answers_there_and_links_to_this_machine(tmp_path):
    server = make_run(tmp_path, "HOST=0.0.0.0", "PORT=8124")

    addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split() or ["127.0.0.1"]
    assert server.startswith("manage.py runserver 0.0.0.0:8124\n")
    assert f"SITE_URL=http://{addresses[0]}:8124 " in server
    assert "ALLOWED_HOSTS=* " in server


def test_a_site_url_of_ones_own_wins(tmp_path):
    server = make_run(tmp_path, "SITE_URL=https://demo.example.com")

    assert "SITE_URL=https://demo.example.com " in server
