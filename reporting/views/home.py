"""The portal's front page, for readers not signed in (signed-in people get their role's home page:
indices.views.home)."""
from __future__ import annotations

from django.shortcuts import render

from reporting.selectors import city_list, period_overview_list


def home(request):
    """The portal's front page: what the index is and which periods are open."""
    return render(request, "reporting/home.html", {
        "periods": period_overview_list(),
        "city_count": city_list().count(),
    })
