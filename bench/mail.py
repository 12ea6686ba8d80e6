"""An e-mail backend for the benchmark's Celery worker: records when each message was handed
over (recipient, subject, time) in a Redis list, and sends nothing."""

import json
import os
import time

import redis
from django.core.mail.backends.base import BaseEmailBackend

MAIL_LOG_KEY = "bench:mail"


_clients = {}


def mail_log():
    """One client per process (a campaign sends thousands of messages; a connection each would
    measure Redis's handshake, not the shop)."""
    url = os.environ["BENCH_MAIL_REDIS_URL"]
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url)
    return _clients[url]


class TimestampingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        handed_over = time.time()
        log = mail_log()
        for message in email_messages:
            for recipient in message.to:
                log.rpush(MAIL_LOG_KEY, json.dumps({"to": recipient, "subject": message.subject, "at": handed_over}))
        return len(email_messages)
