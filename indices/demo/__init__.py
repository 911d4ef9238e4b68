"""The demo: the default methodology, the 30 cities, one account per role and per city, and two
years of approved illustrative returns, so that a fresh portal can be explored and ranked at once.

Every row is found by its natural key (methodology code and version, city code, username, data
year, city + period + revision) and only created when missing, so a second load changes nothing.
The values are synthetic: a fixed seed and each city's approximate population and GDP drive them,
and a strength factor per top-ten city calibrates them so that the demo ranks the published top ten
in its order. Only the Chongqing facts of the design document (methodology-ccfi-2025.md) are taken
from public reporting.

Split in three: ``catalogue`` (what the demo consists of), ``values`` (the reproducible illustrative
values) and ``load`` (creating the rows, computing and publishing the index); the public names are
re-exported here.
"""
from indices.demo.catalogue import (
    CHONGQING,
    DEMO_CITIES,
    DEMO_METHODOLOGY_CODE,
    DEMO_METHODOLOGY_VERSION,
    DEMO_PASSWORD,
    DEMO_PERIODS,
    DEMO_TIME_ZONE,
    DEMO_YEARS,
    PUBLISHED_TOP_TEN,
    SOURCE_NOTE,
    STAFF_ACCOUNTS,
    DemoAccount,
    DemoCity,
    DemoPeriod,
    demo_accounts,
    demo_methodology_path,
    demo_methodology_spec,
    demo_return_times,
)
from indices.demo.load import DemoIndexOutcome, DemoLoadSummary, demo_index_ensure, demo_load
from indices.demo.values import (
    CHONGQING_FACTS,
    CHONGQING_PATENT_MULTIPLE,
    CITY_STRENGTH,
    DEMO_SEED,
    OTHER_CITIES_BALANCE_SHARE,
    OTHER_CITIES_PATENTS,
    YOY_HEADROOM,
    Values,
    demo_values,
)

__all__ = [
    "CHONGQING",
    "CHONGQING_FACTS",
    "CHONGQING_PATENT_MULTIPLE",
    "CITY_STRENGTH",
    "DEMO_CITIES",
    "DEMO_METHODOLOGY_CODE",
    "DEMO_METHODOLOGY_VERSION",
    "DEMO_PASSWORD",
    "DEMO_PERIODS",
    "DEMO_SEED",
    "DEMO_TIME_ZONE",
    "DEMO_YEARS",
    "OTHER_CITIES_BALANCE_SHARE",
    "OTHER_CITIES_PATENTS",
    "PUBLISHED_TOP_TEN",
    "SOURCE_NOTE",
    "STAFF_ACCOUNTS",
    "YOY_HEADROOM",
    "DemoAccount",
    "DemoCity",
    "DemoIndexOutcome",
    "DemoLoadSummary",
    "DemoPeriod",
    "Values",
    "demo_accounts",
    "demo_index_ensure",
    "demo_load",
    "demo_methodology_path",
    "demo_methodology_spec",
    "demo_return_times",
    "demo_values",
]
