"""Telling shoppers about their orders: the one path from an outbox row to an e-mail.

One module per job; callers import the module that does the job (there are no re-exports here):

- outbox.py: `notify()` writes a Notification row in the caller's transaction and hands its task
  to the broker after commit, bounded in time (a broker that is down costs a request under a
  second; the row waits for the relay).
- delivery.py: one delivery of one row, at most once per (order, kind): claim, record that the
  mail server is being called, send, mark sent; a lost worker's claim is settled, never guessed.
- relay.py: queues pending rows the broker never got and takes over abandoned claims
  (SELECT … FOR UPDATE SKIP LOCKED), from Celery beat and `manage.py relay_notifications`.
- messages.py: builds a row's e-mail with the builder declared for its kind in the setting
  O2O_NOTIFICATION_EMAILS (checked at start-up by orders.checks).
- decisions.py: what managers decide in the admin: resend, or confirm an unconfirmed e-mail.

The Celery task (orders.tasks.send_notification) is thin: it takes the row's id, calls
delivery, and lets Celery retry with backoff when the mail server fails.
"""
