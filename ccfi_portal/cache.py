"""Caching of published reads: what every reader sees the same way, kept in Django's cache framework.

**What is cached: data and page bodies, never pages.** The reader pages show the logged-in user's menu and
carry the session's CSRF token, so caching whole responses would hand one user's page to another. What is
cached is the data the views compute from the selectors (ranking tables, city profiles, the methodology
reader tree, the periods and runs around them, and the serialized data of the public API's lists and
details) and, where rendering is the cost (the ranking page's table), the rendered body of a page in one
language (``published_fragment``: the language is part of its key) and the rendered JSON body of a public API
read, which shows nothing of the user; each request still makes its own page (or its own API response, with its
own headers) around them, with its own menu. The cached data holds both
languages' names (``name_zh``/``name_en``) and the templates pick one per request (``ccfi_portal.i18n.pick``),
so one entry serves the Chinese and the English page alike and language is not part of a key.

**Only what an anonymous reader sees.** The callers compute cached data as an anonymous reader would
(``user=None``), and call ``published_read`` only for requests that would see exactly that: a user who may see
provisional runs or draft methodologies (the secretariat, accounts.permissions) and any request with
``?run=provisional`` bypass the cache entirely, reading and storing nothing. So nothing provisional is ever
stored, and nothing in the cache is served to anyone but a reader who would have computed the same.

**Invalidation by generation.** Every key holds the *published generation*, a number kept under
``GENERATION_KEY`` and bumped by ``published_changed()`` when what readers see changes: a run published or
replaced (indices.services.index_run_publish), a methodology version published or retired
(methodology.services), a city added, changed or deleted (accounts). Entries of an older generation are
never read again and expire (``CACHE_PUBLISHED_SECONDS``) or are evicted; no key is ever enumerated. The
bump happens twice: at once, so that the changing request and the rest of its transaction read fresh
data, and again after the commit (``transaction.on_commit``), so that a reader who filled the cache with
the old data between the first bump and the commit does not keep it. A generation lost from the cache
(evicted, or a cache restarted) starts again from the clock in nanoseconds, above any generation used
before, so old entries cannot come back.

**A copy in each process.** ``published_read`` keeps what it read or computed in the process too (pickled,
as the cache backends keep it, so no reader shares objects with another), under the same key: the next read of
that key in the process costs the generation's round trip alone, not a second one for the data. The key holds
the generation, so a publication invalidates these copies as it does the shared cache's; they expire as
``CACHE_PUBLISHED_SECONDS`` says, and the process keeps at most ``LOCAL_BYTES`` of them (entries above
``LOCAL_ENTRY_BYTES``, e.g. an open-data ZIP, stay in the shared cache only), the oldest read dropped first.

Backends: local memory by default (one cache per process: with several web processes, an entry another
process filled before a publication lives until ``CACHE_PUBLISHED_SECONDS`` runs out), Redis in production
(``CACHE_URL=redis://...``: one cache for every process, invalidation is immediate everywhere).
"""
from __future__ import annotations

import hashlib
import pickle  # nosec B403
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

GENERATION_KEY = "ccfi:published:generation"
LOCAL_BYTES = 32 * 1024 * 1024
LOCAL_ENTRY_BYTES = 1024 * 1024
_MISSING = object()
T = TypeVar("T")


def published_generation() -> int:
    """The current published generation (started from the clock when the cache has none)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation if generation is not None else time.time_ns()  # a cache that keeps nothing: no hits


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not in the cache (never set, evicted, restarted): a fresh start above every old one
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)


def published_changed() -> None:
    """What readers see changes: call inside the transaction that changes it (see the module docstring)."""
    _bump()
    transaction.on_commit(_bump)


def published_key(name: str, *parts) -> str:
    """The cache key of one published read in the current generation; ``parts`` may hold anything a
    request sends (hashed, so the key stays short and safe for every backend)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"ccfi:published:{published_generation()}:{name}:{digest}"


class _LocalCopies:
    """The process's copies of published reads (module docstring): pickled, bounded, oldest read dropped first."""

    def __init__(self):
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers and the live test server read from threads

    def get(self, key: str):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISSING
            if entry[0] <= time.monotonic():
                self._drop(key)
                return _MISSING
            self._entries.move_to_end(key)
        return pickle.loads(entry[1])  # nosec B301

    def put(self, key: str, value) -> None:
        pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(pickled) > LOCAL_ENTRY_BYTES:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic() + settings.CACHE_PUBLISHED_SECONDS, pickled)
            self._bytes += len(pickled)
            while self._bytes > LOCAL_BYTES:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        self._bytes -= len(self._entries.pop(key)[1])


local_copies = _LocalCopies()


def published_read(name: str, *parts, compute: Callable[[], T]) -> T:
    """``compute()``'s result for this read of published data, from the process's copy, the cache or computed
    and stored in both.

    Call it only for a request that sees what an anonymous reader sees, with a ``compute`` that reads as
    an anonymous reader. An exception (e.g. Http404) leaves nothing stored."""
    key = published_key(name, *parts)
    value = local_copies.get(key)
    if value is not _MISSING:
        return value
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=settings.CACHE_PUBLISHED_SECONDS)
    local_copies.put(key, value)
    return value


def published_fragment(name: str, *parts, render: Callable[[], str]) -> str:
    """The HTML ``render()`` gives for this published read in the active language, from the cache or rendered
    and stored. The same rules as ``published_read``; and the template must show nothing of the user or the
    session (no menu, no CSRF token), and ``parts`` must hold everything of the request it depends on."""
    return published_read(f"{name}:html", get_language(), *parts, compute=render)


class PublishedReadViewSetMixin:
    """For a read-only DRF viewset of public data: the data of ``list`` and ``retrieve`` comes from the
    published-read cache when ``reads_published_only(request)``, keyed by the whole URL (the page links of a
    list name the host and the query). A JSON answer is cached rendered too (the rendering cost as much as the
    rest of the view), keyed by the media type asked for (``; indent=2`` renders otherwise); any other (the
    browsable API) is rendered by each request."""

    published_read_name = ""

    def reads_published_only(self, request) -> bool:
        return True

    def published_response(self, request, respond):
        if not self.reads_published_only(request):
            return respond()
        url = request.build_absolute_uri()

        def data():
            return published_read(self.published_read_name, url, compute=lambda: respond().data)

        renderer = request.accepted_renderer
        if not isinstance(renderer, JSONRenderer):
            return Response(data())
        media_type = request.accepted_media_type
        body = published_read(f"{self.published_read_name}:json", url, media_type,
                              compute=lambda: renderer.render(data(), media_type, self.get_renderer_context()))
        return HttpResponse(body, content_type=renderer.media_type)

    def list(self, request, *args, **kwargs):
        parent = super().list
        return self.published_response(request, lambda: parent(request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        parent = super().retrieve
        return self.published_response(request, lambda: parent(request, *args, **kwargs))
