"""The API's request limits (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES): one per anonymous client, one per user."""
from rest_framework.throttling import UserRateThrottle


class SignedInUserRateThrottle(UserRateThrottle):
    """The per-user limit (``API_THROTTLE_USER``) for signed-in users only. DRF's UserRateThrottle counts an
    anonymous client by address too, so an anonymous request paid two limits (and two cache round trips) where
    AnonRateThrottle's one is meant."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
