"""Who is calling, and may they: the dependencies every route declares.

`CurrentUser` is the default for routes: signed in, active, password not pending a change, and
for cookie-authenticated unsafe requests, the CSRF token echoed. `PendingUser` lets a user whose
password must change still reach the few routes that let them change it.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from medianest.auth.account import AccountService
from medianest.auth.cookies import ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER
from medianest.auth.errors import CsrfFailed, PasswordChangeRequired
from medianest.auth.service import AuthService, Client
from medianest.auth.sessions import Principal
from medianest.core.clientip import request_client_ip
from medianest.core.deps import get_platform
from medianest.core.errors import Forbidden, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VERIFIED_CLAIMS = "medianest.verified_claims"
"""Request state key: (token, AccessClaims) once a token's signature was checked."""


def get_auth_service(request: Request) -> AuthService:
    service: AuthService = request.state.services.auth
    return service


async def get_account_service(request: Request) -> AccountService:
    service: AccountService = request.state.services.account
    return service


async def _auth_service(request: Request) -> AuthService:
    return get_auth_service(request)


AuthServiceDep = Annotated[AuthService, Depends(_auth_service)]
AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]


def get_client(request: Request) -> Client:
    ip = request_client_ip(request, get_platform(request).settings)
    return Client(ip=ip, user_agent=request.headers.get("user-agent"))


async def _client(request: Request) -> Client:
    return get_client(request)


ClientDep = Annotated[Client, Depends(_client)]


def bearer_or_cookie(request: Request) -> tuple[str | None, bool]:
    """(token, whether it came from the cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    return request.cookies.get(ACCESS_COOKIE), True


_PRINCIPAL = "medianest.principal"
"""Request state key: the principal once resolved, so a route that declares two of the
dependencies below still authenticates once."""


async def optional_principal(request: Request) -> Principal | None:
    state = request.scope.setdefault("state", {})
    if _PRINCIPAL in state:
        resolved: Principal | None = state[_PRINCIPAL]
        return resolved
    token, from_cookie = bearer_or_cookie(request)
    if not token:
        state[_PRINCIPAL] = None
        return None
    # The rate limiter already checked this token's signature on the way in; reuse its work.
    checked = state.get(VERIFIED_CLAIMS)
    verified = checked[1] if checked and checked[0] == token else None
    principal = await get_auth_service(request).sessions.authenticate(token, verified=verified)
    if from_cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise CsrfFailed
    state[_PRINCIPAL] = principal
    return principal


# Each of these takes the request itself rather than depending on the one before: FastAPI pays
# for every level of nested dependencies on every request, and these sit on every route.


async def pending_user(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized
    return principal


async def require_user(request: Request) -> Principal:
    principal = await pending_user(request)
    if principal.requires_password_change:
        raise PasswordChangeRequired
    return principal


async def require_admin(request: Request) -> Principal:
    principal = await require_user(request)
    if not principal.is_admin:
        raise Forbidden("Only an administrator can do that.")
    return principal


OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
PendingUser = Annotated[Principal, Depends(pending_user)]
CurrentUser = Annotated[Principal, Depends(require_user)]
AdminUser = Annotated[Principal, Depends(require_admin)]
