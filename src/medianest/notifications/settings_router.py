"""`/api/v1/notifications/preferences` and `/push`: how the signed-in person is told, and the
browsers they turned notifications on in. A subscription of anyone else is not found (404)."""

from __future__ import annotations

from fastapi import APIRouter

from medianest.auth.deps import CurrentUser
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope
from medianest.notifications.deps import PreferenceServiceDep, PushServiceDep
from medianest.notifications.preferences import Choice
from medianest.notifications.schemas import (
    PreferencesRead,
    PreferencesUpdate,
    PushKeyRead,
    PushSubscriptionCreate,
    PushSubscriptionDelete,
    PushSubscriptionRead,
    TypeChoice,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


def _read(choices: dict[str, Choice]) -> PreferencesRead:
    return PreferencesRead(
        types={t: TypeChoice(in_app=c.in_app, push=c.push) for t, c in choices.items()}
    )


@router.get("/preferences", response_model=Envelope[PreferencesRead])
async def preferences(
    principal: CurrentUser, session: DbSession, preferences: PreferenceServiceDep
) -> Envelope[PreferencesRead]:
    return Envelope(data=_read(await preferences.choices(session, principal)))


@router.put("/preferences", response_model=Envelope[PreferencesRead])
async def choose_preferences(
    body: PreferencesUpdate,
    principal: CurrentUser,
    session: DbSession,
    preferences: PreferenceServiceDep,
) -> Envelope[PreferencesRead]:
    """Changes the types given; the others stay as they were. Answers every type's choice."""
    chosen = {t: Choice(in_app=c.in_app, push=c.push) for t, c in body.types.items()}
    return Envelope(data=_read(await preferences.choose(session, principal, chosen)))


@router.get("/push/key", response_model=Envelope[PushKeyRead])
async def push_key(_: CurrentUser, push: PushServiceDep) -> Envelope[PushKeyRead]:
    return Envelope(data=PushKeyRead(public_key=await push.public_key()))


@router.post("/push/subscriptions", status_code=201, response_model=Envelope[PushSubscriptionRead])
async def subscribe(
    body: PushSubscriptionCreate, principal: CurrentUser, session: DbSession, push: PushServiceDep
) -> Envelope[PushSubscriptionRead]:
    """This browser gets the person's notifications while it stays signed in."""
    row = await push.subscribe(
        session, principal, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
    )
    return Envelope(data=PushSubscriptionRead.model_validate(row))


@router.delete("/push/subscriptions", status_code=204)
async def unsubscribe(
    body: PushSubscriptionDelete, principal: CurrentUser, session: DbSession, push: PushServiceDep
) -> None:
    await push.unsubscribe(session, principal, body.endpoint)
