"""What the requests domain refuses, each with a message the person can act on."""

from __future__ import annotations

from medianest.core.errors import Conflict, NotFound


class RequestNotFound(NotFound):
    message = "This request does not exist, or is not yours."


class AlreadyRequested(Conflict):
    code = "ALREADY_REQUESTED"
    message = "You have already requested this. It shows in My Requests."


class AlreadyInPlex(Conflict):
    code = "ALREADY_AVAILABLE"
    message = "This is already in Plex: open it from the library."


class NotCancellable(Conflict):
    message = "Only a request that is still waiting for approval can be cancelled."


class OthersWaiting(Conflict):
    message = "Other people are waiting for this title too, so it stays requested."


class StillSubmitting(Conflict):
    message = "This title is being requested right now. Try again in a few seconds."


class NotDecidable(Conflict):
    message = "Only a request waiting for approval can be approved or declined."
