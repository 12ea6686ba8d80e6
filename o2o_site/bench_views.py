"""The benchmark's ceiling: a view that does nothing but render a tiny template through the
shop's whole middleware stack. Mounted only when BENCH_BARE_VIEW=true (bench/run sets it);
never in production."""

from django.shortcuts import render


def bare(request):
    return render(request, "bench/bare.html", {"greeting": "Halló"})
