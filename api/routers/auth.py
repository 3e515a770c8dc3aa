"""Staff sign-in (OAuth2 password flow) and who the caller is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import ConnDep, PrincipalDep, SettingsDep, unauthorized
from api.limits import count_failed_login, limit_login
from geo.auth import Unauthenticated, accounts
from geo.auth.tokens import issue_token

router = APIRouter(prefix="/api/auth", tags=["auth"])

# Guards run before a sign-in attempt is checked: the rate limits on logins (api/limits.py) go here.
LOGIN_GUARDS: list[Any] = [Depends(limit_login)]


class TokenOut(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/token",
    summary="Sign in: username and password → a short-lived bearer token",
    responses={401: {"description": "Wrong username or password, or the account is disabled"}},
    dependencies=LOGIN_GUARDS,
)
async def sign_in(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """OAuth2 password flow (form fields ``username``, ``password``); failed attempts are audited."""
    client = request.app.state.rate_limits.client_ip(request)  # behind a trusted proxy: the real client
    try:
        principal = await accounts.authenticate(conn, username=form.username, password=form.password, client=client)
    except Unauthenticated as exc:
        count_failed_login(request, form.username)
        raise unauthorized(str(exc)) from None
    token = issue_token(
        username=principal.username, role=principal.role, version=principal.token_version, settings=settings
    )
    return TokenOut(access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in)


@router.get("/me", summary="The signed-in account or API key: role, scope and permissions")
async def me(principal: PrincipalDep) -> dict:
    return principal.as_dict()
