"""The one authentication error (the web layer answers it with 401 and ``WWW-Authenticate``)."""

from geo.errors import HueGISError


class Unauthenticated(HueGISError):
    """No credentials, or credentials that prove nothing: missing, wrong, expired, disabled or revoked."""
