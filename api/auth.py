from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts import services


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>` with the token from POST /api/v1/auth/token, until it
    expires (token_lifetime_hours after it was made), is revoked (DELETE /api/v1/auth/token)
    or the password changes."""

    keyword = "Bearer"

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if services.api_token_expires_at(token) <= timezone.now():
            raise exceptions.AuthenticationFailed(
                _("The token has expired. Ask for a new one: POST /api/v1/auth/token.")
            )
        return user, token


class TokenEndpointAuthentication(BearerTokenAuthentication):
    """For /api/v1/auth/token: asking for a token (POST) takes an email and a password, so an
    old or expired token a client still sends does not stand in the way; revoking one
    (DELETE) is done with the token itself."""

    def authenticate(self, request):
        if request.method == "POST":
            return None
        return super().authenticate(request)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
