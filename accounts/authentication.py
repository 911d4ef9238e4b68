"""The API's bearer-token authentication (personal API tokens, accounts.tokens) and its OpenAPI scheme."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.tokens import api_token_user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``. Without the header DRF tries the next class (the session). First in
    DEFAULT_AUTHENTICATION_CLASSES, so that a request without credentials, or with a token that is not valid, is
    answered 401 with ``WWW-Authenticate: Bearer`` (RFC 9110 §11.6.1); a signed-in user who may not is a 403."""

    keyword = "Bearer"

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header is 'Bearer <token>'."))
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("This token is not valid, has expired or was revoked.")) from error
        holder = api_token_user(secret)
        if holder is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid, has expired or was revoked."))
        if holder.password_expired:
            raise exceptions.AuthenticationFailed(
                _("Your password has expired: change it on the portal, then your tokens work again."),
                code="password_expired")
        return holder.user, None


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A personal API token made on /accounts/tokens/ (shown once)."}
