"""The chain-scale benchmark: `make bench` or `bench/run` (see README, "Benchmark").

Seeds a large shop into its own PostgreSQL database, serves it with gunicorn as production would,
drives every page with wrk, runs a checkout rush and measures notification latency with a real
Celery worker on Redis. Nothing here is imported by the shop itself.
"""
