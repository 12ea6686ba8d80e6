"""Sent after commit when an order's payments need settling (payment.receivers queues the task):
a payment was authorised for an order that was cancelled meanwhile, or that another attempt paid.
A signal, not a call, because the task module imports payment.services."""

from django.dispatch import Signal

settlement_due = Signal()
