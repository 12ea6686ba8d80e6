"""Taking money for orders: our Payment model on django-payments, its event rows, the services
that move a payment, and the providers the shop adds (payment.vipps).

Named `payment`, not `payments`: `payments` is django-payments' own top-level package.
"""
