"""Reader pages: rankings with drill-down, city profiles and the methodology. Thin: every number
comes from indices.selectors; a run the user may not see is a 404, never a hint that it exists.

The data of a reader page (not the page: it shows the user's own menu) comes from the published-read cache
(ccfi_portal.cache) for everyone who sees what an anonymous reader sees; it is computed as an anonymous
reader (``user=None``). The secretariat and any ``?run=provisional`` request bypass the cache."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import City
from accounts.permissions import (
    may_publish_run,
    may_rebuild_reports,
    may_recompute_index,
    may_review,
    may_see_draft_methodology,
    may_see_provisional,
    may_try_methodology,
)
from audit.services import client_ip
from ccfi_portal.cache import published_fragment, published_read
from ccfi_portal.i18n import pick
from indices import selectors, services
from indices.forms import WhatIfForm
from indices.models import IndexRun
from indices.opendata import (
    CITATION,
    FORMATS,
    LICENCE,
    open_data_package_cached,
    open_data_run,
    open_data_years,
)
from indices.reports.selectors import run_report_builds, user_may_see_city_report
from indices.reports.services import reports_rebuild
from reporting.models import ReportingPeriod
from reporting.selectors import returns_visible_to
from reporting.views import home as front_page


def home(request):
    """Signed in with a role: what to do next (indices.selectors.role_home). Otherwise the portal's front page."""
    page = selectors.role_home(user=request.user)
    if not page.has_role:
        return front_page(request)
    return render(request, "indices/home.html", {"home": page})


def _wants_provisional(request) -> bool:
    return request.GET.get("run") == "provisional"


def _reads_published_only(request) -> bool:
    """Whether the request sees exactly what an anonymous reader sees, so that its data may come from (and go
    to) the published-read cache: not the secretariat, not a request for the provisional run."""
    user = request.user
    return not (_wants_provisional(request) or may_see_provisional(user) or may_see_draft_methodology(user))


def _reader_run_context(period: ReportingPeriod, *, user, provisional: bool) -> dict:
    """What every page about a run shows: the run, whether it is provisional, illustrative, and the way to the
    other run (for the secretariat). A run the user may not see is a 404."""
    run, other_run = selectors.runs_for_reader(period=period, user=user, provisional=provisional)
    if run is None:
        raise Http404
    return {
        "run": run,
        "provisional": not run.is_published,
        "illustrative": selectors.run_is_illustrative(run=run),
        "other_run": other_run,
        "revision": selectors.run_revision(run=run) if run.is_published else None,
    }


def _reader_data(request, name: str, *parts, compute):
    """``compute(user, provisional)``: from the published-read cache (computed as an anonymous reader) when
    the request reads published data only, else computed for the request's user."""
    if _reads_published_only(request):
        return published_read(name, *parts, compute=lambda: compute(None, False))
    return compute(request.user, _wants_provisional(request))


def rankings(request):
    """The period chooser: straight to the newest data year the user may see."""
    periods = _reader_data(request, "ranking_periods",
                           compute=lambda user, _provisional: selectors.ranking_periods(user=user))
    default = selectors.reader_default_period(periods)
    if default is not None:
        return redirect("indices:ranking", year=default.data_year)
    return render(request, "indices/ranking_list.html", {"periods": periods, "table": None})


def _ranking_data(*, year: int, node_code: str | None, sort: str, user, provisional: bool) -> dict:
    period = get_object_or_404(ReportingPeriod, data_year=year)
    run_context = _reader_run_context(period, user=user, provisional=provisional)
    try:
        table = selectors.ranking_table(run=run_context["run"], node_code=node_code, sort=sort)
    except LookupError:
        raise Http404 from None
    return {**run_context, "period": period, "table": table, "periods": selectors.ranking_periods(user=user)}


def ranking_detail(request, year: int):
    node_code, sort = request.GET.get("node") or None, request.GET.get("sort") or "rank"

    def body() -> str:
        data = _reader_data(request, "ranking", year, node_code, sort, compute=lambda user, provisional: _ranking_data(
            year=year, node_code=node_code, sort=sort, user=user, provisional=provisional))
        table = data["table"]
        ranked = selectors.ranking_sort([row for row in table.rows if row.score is not None], sort="rank")
        chart = {
            "title": pick(table.node, "name"),
            "cities": [pick(row.city, "name") for row in ranked],
            "values": [round(row.score, 2) for row in ranked],
        }
        sort_links = _sort_links(request, table)
        return render_to_string("indices/_ranking_body.html", {
            **data,
            "chart": chart,
            "sort_links": sort_links,
            "columns": [
                {"item": column, "sort": sort_links[column.code], "drill": _query(request, node=column.code, sort=None)}
                for column in table.columns
            ],
            "path": [{"item": item, "link": _query(request, node=item.code, sort=None)} for item in table.path],
        })

    # Rendering the table is most of the page's cost: readers get the body rendered once per language and published
    # generation. Its links repeat the query, so only a query of one node and one sort (both checked by the selectors)
    # is cached; anything else is rendered each time rather than fill the cache.
    if _reads_published_only(request) and all(key in ("node", "sort") and len(request.GET.getlist(key)) == 1
                                              for key in request.GET):
        html = published_fragment("ranking", year, node_code, sort, request.GET.urlencode(), render=body)
    else:
        html = body()
    return render(request, "indices/ranking_list.html", {"year": year, "body": html})


def _query(request, **changes) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    query = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"?{query.urlencode()}" if query else "?"


def _sort_links(request, table) -> dict[str, str]:
    """For each sortable column, the query that sorts by it (the second click reverses)."""
    links = {}
    for key in (*selectors.RANKING_SORTS, *(column.code for column in table.columns)):
        if table.sort.lstrip("-") == key:
            sort = table.sort[1:] if table.sort.startswith("-") else f"-{table.sort}"
        else:
            # Ranks, names and band widths read smallest first; scores and rank changes best first.
            sort = key if key in ("rank", "city", "band") else f"-{key}"
        links[key] = _query(request, sort=sort)
    return links


def _city_data(*, code: str, year: str | None, user, provisional: bool) -> dict:
    city = get_object_or_404(City, code=code)
    periods = selectors.ranking_periods(user=user)
    if not periods:
        raise Http404
    if year:
        if not year.isdigit():
            raise Http404
        period = get_object_or_404(ReportingPeriod, data_year=int(year))
    else:
        period = selectors.reader_default_period(periods).period
    run_context = _reader_run_context(period, user=user, provisional=provisional)
    try:
        profile = selectors.city_profile(run=run_context["run"], city=city)
    except LookupError:
        raise Http404 from None
    return {**run_context, "periods": periods, "period": period, "city": city, "profile": profile}


def city_detail(request, code: str):
    year = request.GET.get("year") or None
    data = _reader_data(request, "city", code, year, compute=lambda user, provisional: _city_data(
        code=code, year=year, user=user, provisional=provisional))
    city, run, profile = data["city"], data["run"], data["profile"]
    groups = profile.groups
    charts = {
        "groups": {
            "indicators": [{"name": pick(entry.item, "name"), "max": 100} for entry in groups],
            "city": [None if entry.score is None else round(entry.score, 2) for entry in groups],
            "median": [None if entry.median is None else round(entry.median, 2) for entry in groups],
            "city_label": pick(city, "name"),
            "median_label": _("Median"),
        },
        "history": {
            "years": [str(point.data_year) for point in profile.history],
            "scores": [None if point.score is None else round(point.score, 2) for point in profile.history],
            "ranks": [point.rank for point in profile.history],
            "score_label": _("Composite score"),
            "rank_label": _("Rank"),
            "cities": max((point.cities for point in profile.history), default=1),
        },
    }
    return render(request, "indices/city_profile.html", {
        **data,
        "charts": charts,
        "city_report_allowed": run.is_published and user_may_see_city_report(request.user, city),
    })


def methodology_index(request):
    version = _reader_data(request, "methodology_current",
                           compute=lambda _user, _provisional: selectors.methodology_current_for_reader())
    if version is None:
        return render(request, "indices/methodology_detail.html", {"tree": None, "versions": []})
    return redirect("indices:methodology_version", code=version.code, version=version.version)


def _methodology_data(*, code: str, version: str, user) -> dict:
    versions = selectors.methodology_versions_for_reader(user=user)
    methodology = get_object_or_404(versions, code=code, version=version)
    return {
        "methodology": methodology,
        "tree": selectors.methodology_reader_tree(version=methodology),
        "versions": list(versions),
        "periods": list(methodology.periods.order_by("-data_year")),
    }


def methodology_detail(request, code: str, version: str):
    data = _reader_data(request, "methodology", code, version, compute=lambda user, _provisional: _methodology_data(
        code=code, version=version, user=user))
    return render(request, "indices/methodology_detail.html", {**data, "rankings_url": reverse("indices:rankings")})


# The secretariat's pages: every run of a period (recompute, publish) and the what-if of a methodology.

@login_required
def run_list(request):
    """Every period's runs, newest first: state, completeness, timings; publish and recompute."""
    if not may_see_provisional(request.user):
        raise PermissionDenied
    return render(request, "indices/run_list.html", {
        "periods": selectors.runs_by_period(),
        "may_publish": may_publish_run(request.user),
        "work": selectors.work_panel(),
    })


@login_required
@require_POST
def run_recompute(request, year: int):
    if not may_recompute_index(request.user):
        raise PermissionDenied
    period = get_object_or_404(ReportingPeriod, data_year=year)
    try:
        services.index_recompute_request(period=period, actor=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.info(request, _("The index of %(year)s is being recomputed; follow it under Background work.")
                      % {"year": year})
    return redirect("indices:runs")


@login_required
@require_POST
def run_publish(request, pk: int):
    if not may_publish_run(request.user):
        raise PermissionDenied
    run = get_object_or_404(IndexRun, pk=pk)
    try:
        services.index_run_publish(run=run, actor=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The %(year)s index is published.") % {"year": run.period.data_year})
    return redirect("indices:runs")


@login_required
def whatif(request):
    """A draft (or any other) methodology version computed on a published run's data, beside the run."""
    if not may_try_methodology(request.user):
        raise PermissionDenied
    form = WhatIfForm(request.GET or None)
    comparison = None
    if form.is_valid():
        comparison = selectors.methodology_whatif(run=form.cleaned_data["run"],
                                                  methodology=form.cleaned_data["methodology"])
    return render(request, "indices/whatif.html", {"form": form, "whatif": comparison})


@login_required
def work(request):
    """The background work panel alone: what the run pages poll (htmx) while work is unfinished."""
    if not may_see_provisional(request.user):
        raise PermissionDenied
    run = None
    if request.GET.get("run", "").isdigit():
        run = get_object_or_404(IndexRun, pk=int(request.GET["run"]))
    return render(request, "indices/_work.html", {"panel": selectors.work_panel(run=run)})


@login_required
def return_impact(request, pk: int):
    """What approving a submitted return would do to the ranking: a fragment of the review page, loaded
    after it (htmx) because it runs the engine twice."""
    indicator_return = get_object_or_404(returns_visible_to(user=request.user).select_related("period__methodology"),
                                         pk=pk)  # another city's return: 404 before anything else
    if not may_review(request.user):
        raise PermissionDenied
    return render(request, "indices/_impact.html", {
        "impact": selectors.return_impact_preview(indicator_return=indicator_return),
        "indicator_return": indicator_return,
    })


def run_detail(request, pk: int):
    """How a run was computed and what its statistical audit found: public for a published run, for the
    secretariat otherwise."""
    run = get_object_or_404(IndexRun.objects.select_related("period", "methodology", "published_by"), pk=pk)
    secretariat = may_see_provisional(request.user)
    if not run.is_published and not secretariat:
        raise Http404
    return render(request, "indices/run_detail.html", {
        "explanation": selectors.run_explanation(run=run),
        "report_builds": run_report_builds(run=run) if secretariat and run.published_at else None,
        "work": selectors.work_panel(run=run) if secretariat else None,
        "may_rebuild_reports": may_rebuild_reports(request.user),
    })


@login_required
@require_POST
def run_reports_rebuild(request, pk: int):
    if not may_rebuild_reports(request.user):
        raise PermissionDenied
    run = get_object_or_404(IndexRun.objects.select_related("period"), pk=pk)
    try:
        reports_rebuild(run=run, actor=request.user, ip_address=client_ip(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The reports of %(year)s are being built again; follow them below.")
                         % {"year": run.period.data_year})
    return redirect("indices:run_detail", pk=run.pk)


OPEN_DATASETS = (
    ("values", gettext_lazy("Approved indicator values"),
     gettext_lazy("The value of every indicator for every city, as the run read them: the input of compute_index.")),
    ("scores", gettext_lazy("Scores"),
     gettext_lazy("Every city's score at every node of the tree and on every indicator (normalised), then its rank.")),
    ("ranks", gettext_lazy("Ranks"),
     gettext_lazy("Every city's rank at every node of the tree and on every indicator.")),
    ("rank_bands", gettext_lazy("Rank ranges"),
     gettext_lazy("The 5th percentile, median and 95th percentile of each rank over the Monte Carlo samples.")),
    ("dictionary", gettext_lazy("Data dictionary"),
     gettext_lazy("Every code in the files: names in both languages, units, directions, weights and sources.")),
)
OPEN_DATA_FILES = {
    "previous": gettext_lazy("Last period's values (the run imputed missing values from them)"),
    "methodology": gettext_lazy("Methodology document"),
    "manifest": gettext_lazy("Manifest: input hash, methodology, publication time, every file's size and SHA-256"),
}


def open_data_index(request):
    """Open data: straight to the newest published data year (never a provisional one)."""
    years = open_data_years()
    if years:
        return redirect("indices:open_data", year=years[0])
    return render(request, "indices/open_data.html", {"years": years, "package": None})


def open_data(request, year: int):
    """The downloads of one data year's published run, with their sizes and SHA-256 sums; 404 without one."""
    run = open_data_run(year=year)
    if run is None:
        raise Http404
    package = open_data_package_cached(run=run)
    datasets = [{"key": key, "title": title, "about": about,
                 "files": [package.dataset(key).get(fmt) for fmt in FORMATS]}
                for key, title, about in OPEN_DATASETS if package.dataset(key)]
    extras = [{"file": item, "title": OPEN_DATA_FILES[item.dataset]} for item in package.files
              if item.dataset in OPEN_DATA_FILES]
    return render(request, "indices/open_data.html", {
        "years": open_data_years(), "year": year, "run": run, "package": package, "datasets": datasets,
        "extras": extras, "citation": CITATION.format(year=year), "licence": LICENCE,
        "illustrative": selectors.run_is_illustrative(run=run), "provisional": False,
    })


def open_data_file(request, year: int, name: str):
    """One file of the open data (or the whole ZIP), as an attachment with its SHA-256 in a header."""
    run = open_data_run(year=year)
    item = open_data_package_cached(run=run).file(name) if run is not None else None
    if item is None:
        raise Http404
    response = HttpResponse(item.content, content_type=item.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=item.name)
    response["X-Content-SHA256"] = item.sha256
    return response
