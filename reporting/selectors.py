"""Selectors of the reporting app: functions that read."""
from django.db.models import Count, Q, QuerySet

from reporting.models import City, IndicatorReturn, ReportingPeriod, ReturnState


def period_overview_list() -> QuerySet[ReportingPeriod]:
    """Periods with their methodology and how many returns are approved and illustrative."""
    return ReportingPeriod.objects.select_related("methodology").annotate(
        approved_returns=Count("returns", filter=Q(returns__state=ReturnState.APPROVED)),
        illustrative_returns=Count("returns", filter=Q(returns__is_illustrative=True)),
    )


def city_list() -> QuerySet[City]:
    return City.objects.all()


def returns_visible_to(*, user) -> QuerySet[IndicatorReturn]:
    """The returns a user may see: a filer those of its city, secretariat staff all, others none."""
    returns = IndicatorReturn.objects.select_related("city", "period")
    if not user.is_authenticated:
        return returns.none()
    if user.is_superuser or user.has_perm("reporting.view_indicatorreturn"):
        return returns
    if user.city_id:
        return returns.filter(city_id=user.city_id)
    return returns.none()
