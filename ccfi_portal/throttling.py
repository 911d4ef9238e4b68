"""The API's request limits (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES): one per anonymous client, one per user.

Each limit counts requests in a window that opens with a client's first request and lasts the rate's period
(60/min: a minute): one counter a client, one cache round trip a request. DRF's own throttles keep the time of
every request of the last period in one list, read and written back whole by each request (two round trips,
and a list as long as the limit); a client at its limit could send at most twice the limit across the end of
one window and the start of the next, which a limit against abuse allows."""
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from ccfi_portal.cache_backends import count_in_window


class WindowCountThrottleMixin:
    """For DRF's SimpleRateThrottle classes: ``allow_request`` counts in the client's window (module docstring).
    The counters have keys of their own: DRF's lists, left under its keys by an earlier version, are no counters."""

    cache_format = "throttle:window:%(scope)s:%(ident)s"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self.seconds_left = count_in_window(self.cache, self.key, self.duration)
        return count <= self.num_requests

    def wait(self):
        """The Retry-After of a refused request: until the client's window ends."""
        return self.seconds_left


class ClientRateThrottle(WindowCountThrottleMixin, AnonRateThrottle):
    """The per-address limit for anonymous clients (``API_THROTTLE_ANON``)."""


class SignedInUserRateThrottle(WindowCountThrottleMixin, UserRateThrottle):
    """The per-user limit (``API_THROTTLE_USER``) for signed-in users only. DRF's UserRateThrottle counts an
    anonymous client by address too, so an anonymous request paid two limits (and two cache round trips) where
    the anonymous one is meant."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
