"""The roll-up runs on SQLite too: `make run` (the demo) has no PostgreSQL, and its
`manage.py roll_up_figures` stopped at 0 % on "no such function: timezone" (a fresh-eyes test),
leaving the demo's dashboard empty. analytics.rollups.LocalDay and SecondsBetween say it the
SQLite way there.

The suite runs on PostgreSQL, so this test runs the hand-count tests of test_figures.py again in a
child pytest on the demo's settings: no DATABASE_URL (SQLite), no broker; tables made from the
models (--nomigrations), so it takes seconds.
"""

import os
import subprocess
import sys

from django.conf import settings

HAND_COUNT_TESTS = (
    "test_the_roll_up_of_a_store_and_day_equals_the_hand_count",
    "test_days_are_each_stores_own_calendar_days",
    "test_the_dashboard_figures_of_a_store_and_of_the_chain_equal_the_hand_count",
)


def test_the_roll_up_equals_the_hand_count_on_the_demos_sqlite_database(tmp_path):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_ADDOPTS"}
    }
    environment["ENV_FILE"] = ""

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "analytics/tests/test_figures.py",
            "--nomigrations",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            " or ".join(HAND_COUNT_TESTS),
            f"--basetemp={tmp_path / 'child'}",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )

    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"{len(HAND_COUNT_TESTS)} passed" in summary, summary
