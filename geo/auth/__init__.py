"""Staff authentication and authorisation (no web imports): accounts, API keys, tokens, roles, policy.

- ``roles``: the roles, their permissions and scopes, as data;
- ``policy``: ``Principal`` and the checks services run (``Forbidden`` naming what is missing);
- ``accounts``: staff accounts (argon2id passwords) and machine API keys (stored as SHA-256);
- ``tokens``: short-lived HS256 access tokens signed with ``Settings.secret_key``.
"""

from geo.auth.errors import Unauthenticated
from geo.auth.policy import Principal

__all__ = ["Principal", "Unauthenticated"]
