"""`/api/v1/auth`: sign in (password or Plex), refresh, sign out, account security."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from medianest.auth.cookies import (
    PIN_COOKIE,
    PIN_COOKIE_PATH,
    REMEMBER_COOKIE,
    clear_session_cookies,
    is_https,
    set_session_cookies,
)
from medianest.auth.deps import (
    AccountServiceDep,
    AuthServiceDep,
    ClientDep,
    CurrentUser,
    PendingUser,
)
from medianest.auth.plex_return import plex_done_url
from medianest.auth.schemas import (
    BackupCodes,
    ChangePassword,
    DeviceSessionRead,
    LoginRequest,
    LoginResult,
    LogoutRequest,
    Message,
    PlexPinCreate,
    PlexPinRead,
    PlexPinStatus,
    PlexVerify,
    RefreshRequest,
    RefreshResult,
    ResetConfirm,
    ResetRequest,
    SessionRead,
    TwoFactorDisable,
    TwoFactorEnable,
    TwoFactorSetup,
)
from medianest.auth.service import SignedIn
from medianest.auth.views import principal_read, user_read
from medianest.core.deps import DbSession, get_platform
from medianest.core.routing import answers_from_dependencies
from medianest.core.schemas import Envelope

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Checking who is signed in and signing out must work however much else a client was refused:
# no rate limit applies to them (a refused sign-out leaves a person signed in).
NEVER_LIMITED = frozenset({"/api/v1/auth/session", "/api/v1/auth/logout"})

POLL_INTERVAL_MS = 1000


def _signed_in(result: SignedIn, request: Request, response: Response) -> Envelope[LoginResult]:
    issued = result.issued
    csrf = set_session_cookies(
        response,
        request,
        access_token=issued.access_token,
        remember_token=issued.remember_token,
        remember=issued.remember,
    )
    return Envelope(
        data=LoginResult(
            user=user_read(result.user),
            token=issued.access_token,
            remember_token=issued.remember_token if issued.remember else None,
            csrf_token=csrf,
        )
    )


@router.post("/login", response_model=Envelope[LoginResult])
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: DbSession,
    auth: AuthServiceDep,
    client: ClientDep,
) -> Envelope[LoginResult]:
    result = await auth.login(
        session,
        username=body.username,
        password=body.password,
        totp_code=body.totp_code,
        remember=body.remember_me,
        client=client,
    )
    return _signed_in(result, request, response)


@router.post("/plex/pin", response_model=Envelope[PlexPinRead], status_code=201)
async def create_plex_pin(
    _: PlexPinCreate, request: Request, response: Response, auth: AuthServiceDep
) -> Envelope[PlexPinRead]:
    public_url = get_platform(request).settings.public_url
    started = await auth.start_plex_pin(forward_url=plex_done_url(request, public_url))
    response.set_cookie(
        PIN_COOKIE,
        started.browser_secret,
        max_age=1800,
        httponly=True,
        secure=is_https(request),
        samesite="lax",
        path=PIN_COOKIE_PATH,
    )
    pin = started.pin
    return Envelope(
        data=PlexPinRead(
            id=pin.id,
            code=pin.code,
            auth_url=started.auth_url,
            expires_at=pin.expires_at,
            poll_interval_ms=POLL_INTERVAL_MS,
        )
    )


@router.get("/plex/pin/{pin_id}", response_model=Envelope[PlexPinStatus])
async def plex_pin_status(pin_id: int, auth: AuthServiceDep) -> Envelope[PlexPinStatus]:
    pin = await auth.plex_pin_status(pin_id)
    return Envelope(
        data=PlexPinStatus(id=pin.id, authorized=bool(pin.auth_token), expires_at=pin.expires_at)
    )


@router.post("/plex/verify", response_model=Envelope[LoginResult])
async def verify_plex_pin(
    body: PlexVerify,
    request: Request,
    response: Response,
    session: DbSession,
    auth: AuthServiceDep,
    client: ClientDep,
) -> Envelope[LoginResult]:
    result = await auth.verify_plex_pin(
        session,
        pin_id=body.pin_id,
        browser_secret=request.cookies.get(PIN_COOKIE),
        remember=body.remember_me,
        client=client,
    )
    response.delete_cookie(PIN_COOKIE, path=PIN_COOKIE_PATH)
    return _signed_in(result, request, response)


@router.post("/refresh", response_model=Envelope[RefreshResult])
async def refresh(
    request: Request,
    response: Response,
    session: DbSession,
    auth: AuthServiceDep,
    client: ClientDep,
    body: RefreshRequest | None = None,
) -> Envelope[RefreshResult]:
    token = (body.remember_token if body else None) or request.cookies.get(REMEMBER_COOKIE)
    issued, access = await auth.refresh(session, token, client=client)
    csrf = set_session_cookies(
        response,
        request,
        access_token=access,
        remember_token=issued.remember_token if issued else None,
        remember=issued.remember if issued else bool(request.cookies.get(REMEMBER_COOKIE)),
    )
    rotated = issued.remember_token if issued and issued.remember else None
    return Envelope(data=RefreshResult(token=access, remember_token=rotated, csrf_token=csrf))


@router.post("/logout", response_model=Envelope[Message])
async def logout(
    response: Response,
    principal: PendingUser,
    session: DbSession,
    auth: AuthServiceDep,
    client: ClientDep,
    body: LogoutRequest | None = None,
) -> Envelope[Message]:
    everywhere = bool(body and body.all_sessions)
    await auth.logout(session, principal, everywhere=everywhere, client=client)
    clear_session_cookies(response)
    return Envelope(data=Message(message="Signed out everywhere." if everywhere else "Signed out."))


SESSION_PATH = "/api/v1/auth/session"


@router.get("/session", response_model=Envelope[SessionRead])
@answers_from_dependencies
async def current_session(principal: PendingUser) -> Envelope[SessionRead]:
    """Who is signed in on this device."""
    # Every page load asks this: the app serves it through `core.routing.fast_route`, which
    # writes each principal's answer once (a principal is an immutable snapshot).
    return Envelope(data=SessionRead(user=principal_read(principal)))


@router.post("/change-password", response_model=Envelope[Message])
async def change_password(
    body: ChangePassword,
    principal: PendingUser,
    session: DbSession,
    account: AccountServiceDep,
    client: ClientDep,
) -> Envelope[Message]:
    await account.change_password(
        session,
        principal,
        current=body.current_password,
        new=body.new_password,
        actor=client.actor(principal),
    )
    return Envelope(
        data=Message(message="Your password is changed. Other devices were signed out.")
    )


@router.post(
    "/password-reset/request",
    response_model=Envelope[Message],
    status_code=status.HTTP_202_ACCEPTED,
)
async def request_password_reset(
    body: ResetRequest, session: DbSession, account: AccountServiceDep, client: ClientDep
) -> Envelope[Message]:
    await account.request_reset(session, email=body.email, actor=client.actor())
    return Envelope(
        data=Message(
            message="If that address belongs to an account, a reset link is on its way. "
            "It works for one hour."
        )
    )


@router.post("/password-reset/confirm", response_model=Envelope[Message])
async def confirm_password_reset(
    body: ResetConfirm, session: DbSession, account: AccountServiceDep, client: ClientDep
) -> Envelope[Message]:
    await account.confirm_reset(
        session, token=body.token, new_password=body.new_password, actor=client.actor()
    )
    return Envelope(data=Message(message="Your password is changed. Sign in with it now."))


@router.post("/2fa/setup", response_model=Envelope[TwoFactorSetup])
async def setup_two_factor(
    principal: CurrentUser, session: DbSession, account: AccountServiceDep
) -> Envelope[TwoFactorSetup]:
    started = await account.start_two_factor(session, principal)
    return Envelope(
        data=TwoFactorSetup(
            secret=started.secret, otpauth_url=started.otpauth_url, qr_svg=started.qr_svg
        )
    )


@router.post("/2fa/enable", response_model=Envelope[BackupCodes])
async def enable_two_factor(
    body: TwoFactorEnable,
    principal: CurrentUser,
    session: DbSession,
    account: AccountServiceDep,
    client: ClientDep,
) -> Envelope[BackupCodes]:
    codes = await account.enable_two_factor(
        session, principal, code=body.code, actor=client.actor(principal)
    )
    return Envelope(data=BackupCodes(backup_codes=codes))


@router.post("/2fa/disable", response_model=Envelope[Message])
async def disable_two_factor(
    body: TwoFactorDisable,
    principal: CurrentUser,
    session: DbSession,
    account: AccountServiceDep,
    client: ClientDep,
) -> Envelope[Message]:
    await account.disable_two_factor(
        session, principal, password=body.password, code=body.code, actor=client.actor(principal)
    )
    return Envelope(data=Message(message="Two-factor sign-in is off."))


@router.get("/sessions", response_model=Envelope[list[DeviceSessionRead]])
async def list_sessions(
    principal: CurrentUser, session: DbSession, auth: AuthServiceDep
) -> Envelope[list[DeviceSessionRead]]:
    rows = await auth.sessions.list_for_user(session, principal.id)
    return Envelope(
        data=[
            DeviceSessionRead(
                id=row.id,
                device=row.device,
                ip=row.ip,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                current=row.id == principal.session_id,
            )
            for row in rows
        ]
    )


@router.delete("/sessions/{session_id}", response_model=Envelope[Message])
async def revoke_session(
    session_id: uuid.UUID,
    principal: CurrentUser,
    session: DbSession,
    auth: AuthServiceDep,
    client: ClientDep,
) -> Envelope[Message]:
    await auth.revoke_device(session, principal, session_id, client=client)
    return Envelope(data=Message(message="That device is signed out."))
