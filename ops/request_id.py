"""A request id on every request, in every log record, and carried into the Celery tasks it queues.

- RequestIdMiddleware (first in MIDDLEWARE) takes the `X-Request-ID` a proxy or load balancer
  sent when it is well formed (REQUEST_ID_PATTERN: 8-128 characters of letters, digits and
  `._:=+/-`, as a UUID, an AWS `Root=1-…` trace id or a base64 id are), else makes one (32 random
  hex digits), returns it in the response's `X-Request-ID` header and writes one log record
  per request (logger `o2o.request`: method, path, status, milliseconds) at INFO, or at ERROR
  for a 5xx, which is written whatever LOG_LEVEL says.
- RequestIdFilter puts it in every log record as `request_id` ("-" outside a request or task),
  for the formats in settings.LOGGING (text, or JSON with LOG_FORMAT=json).
- Celery: before_task_publish adds it to the message headers (`request_id`), and the worker's
  task_prerun/task_postrun hold it while the task runs, so the task's log records carry it too.
"""

import contextvars
import logging
import os
import re
import time

from celery import signals

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:=+/-]{8,128}")
TASK_HEADER = "request_id"

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_logger = logging.getLogger("o2o.request")


def accepted_request_id(value: str | None) -> str:
    """`value` when it is a well-formed request id (REQUEST_ID_PATTERN), else a new one: 128 random
    bits as 32 hex digits (os.urandom, as uuid4 but a third of its cost)."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return os.urandom(16).hex()


class RequestIdMiddleware:
    """Sets request.request_id and the context's id for the request; first in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            try:
                response = self.get_response(request)
            except Exception:
                # Only when even the error page failed (Django turns other exceptions into responses).
                _log_request(request, 500, started)
                raise
            response[REQUEST_ID_HEADER] = request_id
            if response.status_code >= 500 or request_logger.isEnabledFor(logging.INFO):
                _log_request(request, response.status_code, started)
            return response
        finally:
            current_request_id.reset(token)


def _log_request(request, status: int, started: float) -> None:
    """One record for the request (logger o2o.request, INFO; ERROR for a 5xx)."""
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    request_logger.log(
        logging.ERROR if status >= 500 else logging.INFO,
        "%s %s %s %.1f ms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={"method": request.method, "path": request.path, "status": status, "duration_ms": duration_ms},
    )


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's or task's, else "-")."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        return True


# --- Celery ---------------------------------------------------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def _add_request_id_header(headers=None, **kwargs):
    request_id = current_request_id.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def _hold_request_id(task_id=None, task=None, **kwargs):
    # An eager task runs inside the request, whose id is already current; a worker's task brings
    # it in its headers (Celery puts custom headers on task.request).
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if request_id and REQUEST_ID_PATTERN.fullmatch(str(request_id)) and task_id:
        _task_tokens[task_id] = current_request_id.set(str(request_id))


def _release_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        current_request_id.reset(token)


def connect_celery_signals():
    """Connect the publish/prerun/postrun handlers (ops.apps.OpsConfig.ready)."""
    signals.before_task_publish.connect(_add_request_id_header, dispatch_uid="ops.request_id.publish")
    signals.task_prerun.connect(_hold_request_id, dispatch_uid="ops.request_id.prerun")
    signals.task_postrun.connect(_release_request_id, dispatch_uid="ops.request_id.postrun")
