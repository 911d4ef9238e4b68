"""Translations complete (issue 13): every string a user sees, in the portal and the admin, in both languages.

* The Chinese catalogue has no empty and no fuzzy entry.
* Every HTML page each actor may open (the GET cells of the access matrix that are allowed: ``tests/
  test_access_matrix.py``, its data and URLs reused, so a new page is checked as soon as it has its row there) is
  rendered in Chinese and its visible text searched for what was left in English: a text node (or a title, alt,
  placeholder, aria-label, button value) that is one of our catalogue's English msgids, or holds one of
  ``ENGLISH_FRAGMENTS`` (third-party apps' names, role and flag codes, raw status codes, the admin's "---------").
  Scripts, styles, ``<code>``/``<pre>`` blocks (codes shown as codes) and text areas (people's input) are skipped.
  One test per page; its failure lists each actor's findings.
* In English, Django messages and the pages' text carry no Chinese punctuation (（），。：).
"""
from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from tests import test_access_matrix as matrix

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Things seen in English on Chinese pages before this test existed; each as a whole word (case-insensitive),
# (starting with "~") anywhere in a text node, or (starting with "=") as a whole text node.
ENGLISH_FRAGMENTS = (
    "Axes", "Access attempts", "Access logs", "Access failures", "OTP_TOTP", "TOTP devices", "TOTP device",
    "audit_admin", "security_admin", "Attempt Time", "Choose all", "Remove all", "few_unique", "few_nonzero",
    "low_availability", "outliers", "~final →", "~→ final", "~provisional →", "~→ provisional", "~estimate →",
    "~---------", "Otp_Static", "~Can add ", "~Can change ", "~Can delete ", "~Can view ",
)
# Chinese that is wrong in the admin: its "Change" link as 变化 (the rankings' word, once without a context).
ADMIN_FRAGMENTS = ("=变化",)
# English kept on Chinese pages: technical names; the open data's citation (as in its manifest.json, the one
# reference every user of the files quotes); the English name of the index's root node (the methodology node
# list's column of English names, like a city's).
ALLOWED = re.compile(r"SHA-256|China Consumer Finance Index \(CCFI\) \d{4}, CCFI Secretariat|"
                     r"China Consumer Finance Index")
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea", "template"}
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
CHINESE_PUNCTUATION = re.compile("[（），。：]")
CJK = re.compile(r"[\u3400-\u9fff]")


# The catalogue.

def po_entries(path: Path = CATALOGUE) -> list[dict]:
    """The entries of a .po file (msgctxt, msgid, msgid_plural, msgstr list, flags): enough of the format for
    this test (polib is not a dependency of the portal)."""
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            finish()
            entry, field = {"flags": {flag.strip() for flag in line[2:].split(",")}, "msgstr": []}, None
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            text = _unquote(line)
            if field == "msgstr":
                entry["msgstr"][-1] += text
            else:
                entry[field] += text
            continue
        if keyword in ("msgctxt", "msgid") and (entry is None or "msgid" in entry):
            finish()
            entry = {"flags": set(), "msgstr": []}
        if entry is None:
            entry = {"flags": set(), "msgstr": []}
        if keyword.startswith("msgstr"):
            entry["msgstr"].append(_unquote(rest))
            field = "msgstr"
        else:
            entry[keyword] = _unquote(rest)
            field = keyword
    finish()
    return [item for item in entries if item["msgid"]]  # not the header


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip())


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_chinese_catalogue_is_complete(domain):
    entries = po_entries(CATALOGUE.with_name(f"{domain}.po"))
    assert len(entries) > (500 if domain == "django" else 5)
    empty = [entry["msgid"] for entry in entries if not all(entry["msgstr"])]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert not empty, f"untranslated: {empty}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    keys = [(entry.get("msgctxt"), entry["msgid"]) for entry in entries]
    assert len(keys) == len(set(keys)), "a msgid twice"


def _normal(text: str) -> str:
    return " ".join(text.split())


def english_msgids() -> tuple[set[str], re.Pattern | None]:
    """The msgids whose translation differs (exactly, and as patterns where they hold placeholders)."""
    exact, patterns = set(), []
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
    for entry in po_entries():
        for msgid in (entry["msgid"], entry.get("msgid_plural")):
            if not msgid or _normal(msgid) == _normal(entry["msgstr"][0]):
                continue
            text = _normal(msgid)
            if placeholder.search(text):
                literal = placeholder.sub("", text)
                if len(re.sub(r"\W", "", literal)) >= 6:
                    patterns.append(".+?".join(re.escape(part) for part in placeholder.split(text)))
            elif re.search(r"[A-Za-z]{2}", text):
                exact.add(text)
    return exact, (re.compile("|".join(f"(?:{item})" for item in patterns)) if patterns else None)


# Pages.

class VisibleText(HTMLParser):
    """The text nodes and visible attribute values of a page, outside scripts, styles, code and text areas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self._skipping.append(tag)
        attributes = dict(attrs)
        for name, value in attrs:
            if value and (name in VISIBLE_ATTRIBUTES or (
                    name == "value" and tag == "input" and attributes.get("type") in ("submit", "button", "reset"))):
                self.texts.append(_normal(value))

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.texts.append(_normal(data))


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def _fragment_patterns(fragments) -> list[re.Pattern]:
    return [re.compile(re.escape(fragment[1:])) if fragment.startswith("~")
            else re.compile(rf"^{re.escape(fragment[1:])}$") if fragment.startswith("=")
            else re.compile(rf"(?<![\w-]){re.escape(fragment)}(?![\w-])", re.IGNORECASE)
            for fragment in fragments]


_FRAGMENT_PATTERNS = _fragment_patterns(ENGLISH_FRAGMENTS)
_ADMIN_PATTERNS = _FRAGMENT_PATTERNS + _fragment_patterns(ADMIN_FRAGMENTS)


def english_left(texts: list[str], exact: set[str], patterns: re.Pattern | None, admin: bool = False) -> list[str]:
    found = []
    fragments = _ADMIN_PATTERNS if admin else _FRAGMENT_PATTERNS
    for text in texts:
        if text.startswith(("{", "[")) or ALLOWED.fullmatch(text):
            continue  # a record's JSON (the admin's read-only fields): data, as stored; an allowed term
        candidates = {text, text.rstrip(":：.。"), *(part.strip() for part in re.split(r"[·|:：()（）]", text))}
        candidates = {candidate for candidate in candidates if not ALLOWED.fullmatch(candidate)}
        if candidates & exact or (patterns and len(text) < 200 and patterns.fullmatch(text)) or any(
                pattern.search(text) for pattern in fragments):
            found.append(text)
    return list(dict.fromkeys(found))


SKIPPED_PAGES = {
    "healthz", "readyz", "metrics", "admin:jsi18n", "admin:logout", "logout", "set_language", "api-schema",
    "admin:autocomplete", "admin:audit_auditevent_export", "api-docs", "api-redoc",
}


def _page_keys() -> list[str]:
    """The GET rows of the access matrix that someone may open, but for the API, probes and downloads."""
    routes = {pattern.key: pattern.route for pattern in matrix.url_patterns()}
    keys = []
    for (key, method), row in matrix.EXPECTED.items():
        base = matrix.base_key(key)
        if method != "GET" or base in SKIPPED_PAGES or base not in routes or routes[base].startswith("api/"):
            continue
        if base.endswith("_object") or base == "admin:catch_all":
            continue  # a redirect to the change page; the admin's 404
        if any(cell in (matrix.OK, matrix.PROV, matrix.SECR) for cell in row):
            keys.append(key)
    return keys


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The access matrix's data (tests/test_access_matrix.py), rolled back after the module."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        atomics = TestCase._enter_atomics()
        try:
            yield matrix._build()
        finally:
            TestCase._rollback_atomics(atomics)


@pytest.fixture(scope="module")
def catalogue():
    return english_msgids()


@pytest.fixture(scope="module")
def clients(world):
    """A client per actor, signed in once, Chinese chosen with the language cookie and the browser's header."""
    made = {}
    for actor in matrix.ACTORS:
        client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        if actor != "anonymous":
            client.force_login(get_user_model().objects.get(pk=world.users[actor]))
        made[actor] = client
    return made


@pytest.mark.parametrize("key", _page_keys())
def test_every_page_is_in_chinese(world, db, clients, catalogue, key):
    patterns = {pattern.key: pattern for pattern in matrix.url_patterns()}
    pattern = patterns[matrix.base_key(key)]
    row = matrix.EXPECTED[(key, "GET")]
    url = matrix._url(key, pattern, world)
    findings, pages = [], 0
    for actor, expected in zip(matrix.ACTORS, row, strict=True):
        if expected not in (matrix.OK, matrix.PROV, matrix.SECR):
            continue
        response = clients[actor].get(url)
        if response.status_code in (301, 302):
            continue  # a redirect (open data's newest year, an app list): its target has its own row
        assert response.status_code == 200, f"GET {url} as {actor}: HTTP {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        left = english_left(visible_texts(response.content.decode()), *catalogue, admin=url.startswith("/admin/"))
        if left:
            findings.append(f"  {actor}: {left}")
    assert not findings, f"English on {url} (Chinese chosen):\n" + "\n".join(findings)


def test_the_admin_selectors_speak_chinese(world, db, clients):
    """The user and group forms' two-box selectors: Django's Chinese JavaScript catalogue lacks "Choose all %s"
    (the page said "Choose all 组"); ours adds it."""
    catalog = clients["superuser"].get(reverse("admin:jsi18n")).content.decode()
    for msgid, chinese in (("Choose all %s", "全选%s"), ("Remove all %s", "全部移除%s"),
                           ("Choose selected %s", "选择选中的%s"), ("Remove selected %s", "移除选中的%s")):
        assert f'"{msgid}": {json.dumps(chinese)}' in catalog, msgid


# English: no Chinese punctuation in the interface's own text.

ENGLISH_PAGES = ("home", "reporting:return_detail", "reporting:return_history",
                 "reporting:review_queue", "reporting:review_detail", "indices:runs", "indices:run_detail",
                 "admin:index", "admin:accounts_user_changelist", "admin:auth_group_changelist")


def _chinese_punctuation(texts: list[str]) -> list[str]:
    """Text nodes with Chinese punctuation but no Chinese characters (Chinese data keeps its own)."""
    return [text for text in texts if CHINESE_PUNCTUATION.search(text) and not CJK.search(text)]


def test_english_pages_have_no_chinese_punctuation(world, db):
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(get_user_model().objects.get(pk=world.users["superuser"]))
    patterns = {pattern.key: pattern for pattern in matrix.url_patterns()}
    findings = []
    for key in ENGLISH_PAGES:
        url = matrix._url(key, patterns[key], world)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.content.decode().count('lang="en"') >= 1, url
        left = _chinese_punctuation(visible_texts(response.content.decode()))
        if left:
            findings.append(f"  {url}: {left}")
    assert not findings, "Chinese punctuation in English:\n" + "\n".join(findings)


def test_english_admin_messages_have_no_chinese_punctuation(world, db):
    """An admin save and a portal save: the messages Django shows afterwards."""
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(get_user_model().objects.get(pk=world.users["superuser"]))
    city = matrix._model("accounts.City").objects.get(code=matrix.CITY_A)
    url = reverse("admin:accounts_city_change", args=[city.pk])
    form = {"code": city.code, "name_zh": city.name_zh, "name_en": city.name_en, "province_zh": city.province_zh,
            "province_en": city.province_en, "_save": "Save"}
    response = client.post(url, form, follow=True)
    assert response.status_code == 200
    messages = [str(message) for message in get_messages(response.wsgi_request)] or [
        str(message) for message in response.context["messages"]]
    assert messages, "the admin said nothing after a save"
    left = [message for message in messages if CHINESE_PUNCTUATION.search(message.replace(city.name_zh, ""))]
    assert not left, left
    history = client.get(reverse("reporting:return_history", args=[world.ids["draft_a"]]))
    assert not _chinese_punctuation(visible_texts(history.content.decode())), "return history"


def test_the_audit_trail_reads_statuses_by_their_labels(db):
    """A value's status change in the audit trail: 终值 → 初步值, not final → provisional."""
    from django.utils import translation

    from audit.models import AuditEvent
    from audit.presentation import summary

    event = AuditEvent(event_type="return.values_change", details={"values": [
        {"code": "BORROWERS", "field": "observation_status", "old": "final", "new": "provisional"}]})
    with translation.override("zh-hans"):
        line = summary(event)
        assert line.startswith("BORROWERS") and "终值 → 初步值" in line and "final" not in line, line
    with translation.override("en"):
        assert "Final → Provisional" in summary(event), summary(event)
