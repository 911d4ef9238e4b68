"""The filing fixtures (a methodology, periods, last year's values, a draft) for the API tests."""
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    media_root,
    period,
    period_2023,
    submitted,
    today,
    values,
)
