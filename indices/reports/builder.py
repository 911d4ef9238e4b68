"""HTML templates → PDF with WeasyPrint.

The HTML is self-contained (print CSS and SVG charts inline), so the URL fetcher refuses every
URL: nothing on disk or on the network can be pulled into a report, whatever text a methodologist
or a filer entered. Output is deterministic: the PDF dates are the run's own timestamp and the file
identifier is a hash of the content, so the same run and language give the same bytes.
"""
from __future__ import annotations

import ctypes.util
import functools
import logging
import re
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import City
from indices.models import ReportKind
from indices.reports.context import city_report_context, white_paper_context
from indices.reports.data import report_data

logger = logging.getLogger(__name__)

WHITE_PAPER_TEMPLATE = "reports/white_paper/base.html"
CITY_REPORT_TEMPLATE = "reports/city_report.html"
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class RenderedReport:
    content: bytes
    pages: int


def _refusing_fetcher():
    """A WeasyPrint URL fetcher that reads only data: URLs (the inlined charts): no file:// or
    network URL may be read, whatever text a methodologist or a filer entered."""
    from weasyprint import URLFetcher  # lazy: about a second to import, and needs Pango

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False)


@functools.cache
def _font_config():
    """One FontConfiguration per process: fontconfig's font list is read once, not per report."""
    from weasyprint.text.fonts import FontConfiguration  # lazy: about a second to import, and needs Pango

    return FontConfiguration()


def harfbuzz_subset_available() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz (fast) rather than fontTools (about 50 times slower
    on a CJK font). Debian's libharfbuzz-subset0 provides it."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


def render_html(*, run, kind: str, language: str, city: City | None = None) -> str:
    data = report_data(run=run)
    with translation.override(language):
        if kind == ReportKind.CITY:
            if city is None:
                raise ValueError("A city report needs a city.")
            return render_to_string(CITY_REPORT_TEMPLATE, city_report_context(data, city, language))
        return render_to_string(WHITE_PAPER_TEMPLATE, white_paper_context(data, language))


@functools.cache
def _ua_stylesheet():
    """WeasyPrint's user-agent stylesheet without its universal pseudo-element rules.

    ``::marker``, ``::footnote-call``, ``::footnote-marker``, ``::note-call``, ``::note-marker`` and
    ``::note-callback`` match every element, so WeasyPrint computes five or six extra styles for each of
    the white paper's seven thousand elements, about a third of its layout time. The reports have no
    footnotes or notes, and only list items show markers, so those rules are dropped and ``::marker`` is
    kept for ``li`` only: the pages are the same, pixel for pixel. Read once per process.
    """
    from weasyprint import CSS  # lazy: about a second to import, and needs Pango
    from weasyprint.css.counters import CounterStyle  # lazy: about a second to import, and needs Pango
    from weasyprint.html import UA  # lazy: about a second to import, and needs Pango

    lines = [line for line in UA.splitlines() if not re.match(r"::(footnote|note)-", line)]
    text = "\n".join(lines)
    if "\n::marker {" not in text:
        raise RuntimeError("WeasyPrint's user-agent stylesheet changed: review _ua_stylesheet().")
    text = text.replace("\n::marker {", "\nli::marker {")
    return CSS(string=text, counter_style=CounterStyle())


@functools.cache
def _html_class():
    """weasyprint.HTML with the lighter user-agent stylesheet (WeasyPrint has no public option for it)."""
    from weasyprint import HTML  # lazy: about a second to import, and needs Pango
    from weasyprint.html import UA_FORM_STYLESHEET  # lazy: about a second to import, and needs Pango

    class ReportHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return [_ua_stylesheet(), UA_FORM_STYLESHEET] if forms else [_ua_stylesheet()]

    return ReportHTML


def report_engine_warm_up() -> None:
    """Import WeasyPrint (about a second) and read the fonts and stylesheet once, e.g. when a worker
    process starts, so that its first report does not pay for them."""
    _font_config()
    _ua_stylesheet()
    _html_class()


def html_to_pdf(html: str) -> RenderedReport:
    document = _html_class()(string=html, base_url="about:blank", url_fetcher=_refusing_fetcher()).render(
        font_config=_font_config())
    # PDF/UA-1: a tagged PDF (structure tree, /MarkInfo, /Lang from <html lang>, the title shown as the window
    # title, each chart's alt text as its figure's /Alt) that a screen reader can follow.
    content = document.write_pdf(pdf_identifier=True, uncompressed_pdf=False, pdf_variant=PDF_VARIANT)
    return RenderedReport(content=content, pages=len(document.pages))


def report_render_pdf(*, run, kind: str, language: str, city: City | None = None) -> RenderedReport:
    """The report's PDF bytes and page count."""
    return html_to_pdf(render_html(run=run, kind=kind, language=language, city=city))
