"""Campaigns are sent on SQLite too: `make run` (the demo) has no PostgreSQL, and its admin's
*Send* answered 500 when sending used PostgreSQL's own SQL (FOR UPDATE SKIP LOCKED, unnest).

The suite itself runs on PostgreSQL in CI, so this test runs the campaign flow's tests of
test_sending.py again in a child pytest on the demo's database settings: no DATABASE_URL (SQLite,
IMMEDIATE transactions) and no broker (tasks in-process, as `make run` has them). Tables are
made from the models (--nomigrations) so it takes seconds, not the minute the migrations take.
"""

import os
import subprocess
import sys

from django.conf import settings

# The flow end to end (queue → every address once), written a range at a time, the rate, a chunk
# delivered twice, a lost worker's chunk taken over, and each recipient's own coupon code.
FLOW_TESTS = (
    "test_a_queued_campaign_goes_to_every_subscribed_address_once_in_its_language",
    "test_recipients_are_written_a_range_at_a_time_and_a_lost_step_goes_on_from_what_is_written",
    "test_the_pacer_claims_no_more_than_the_rate_allows",
    "test_a_chunk_delivered_twice_sends_each_recipient_once",
    "test_a_lost_workers_chunk_is_taken_over_unsent_rows_again_started_rows_never_twice",
    "test_each_recipient_gets_a_code_of_their_own_and_a_code_used_at_a_till_counts_as_redeemed",
)


def test_the_campaign_flow_passes_on_the_demos_sqlite_database(tmp_path):
    # given the demo's environment: no database URL, no broker
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_ADDOPTS"}
    }
    environment["ENV_FILE"] = ""

    # when the flow's tests run there
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "campaigns/tests/test_sending.py",
            "--nomigrations",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            " or ".join(FLOW_TESTS),
            f"--basetemp={tmp_path / 'child'}",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # then they ran on SQLite and every one passed
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"{len(FLOW_TESTS)} passed" in summary, summary
