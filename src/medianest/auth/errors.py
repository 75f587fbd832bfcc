"""Errors of signing in and of managing one's account."""

from __future__ import annotations

from medianest.core.errors import Forbidden, MediaNestError, Unauthorized, ValidationFailed


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    message = "That username and password do not match. Check them and try again."


class TotpRequired(Unauthorized):
    code = "TOTP_REQUIRED"
    message = "Enter the 6-digit code from your authenticator app, or a backup code."


class InvalidTotp(Unauthorized):
    code = "INVALID_CREDENTIALS"
    message = "That code is not valid (or was already used). Wait for a new one and try again."


class PasswordChangeRequired(Forbidden):
    code = "PASSWORD_CHANGE_REQUIRED"
    message = "Choose a new password before you continue."


class AccountSuspended(Forbidden):
    message = "Your account is suspended. Ask your administrator."


class PinNotAuthorized(MediaNestError):
    status, code = 400, "PIN_NOT_AUTHORIZED"
    message = "Plex has not confirmed this sign-in yet. Approve it in the Plex window."


class NoAccessToServer(Forbidden):
    """Signing in with a Plex account that neither owns the connected server nor is shared it."""

    message = (
        "Your Plex account does not have access to this Plex server. "
        "Ask the server owner to share it with you."
    )


class NoServerForSignIn(Forbidden):
    """Signing in with Plex while no Plex server is connected: nobody can be let in yet."""

    message = "MediaNest is not connected to a Plex server yet; ask your administrator."


class WrongPassword(ValidationFailed):
    def __init__(self, field: str = "currentPassword") -> None:
        message = "Your current password is not right."
        super().__init__(message, details=[{"field": field, "message": message}])


class CsrfFailed(Forbidden):
    message = "This request is missing its security token. Reload the page and try again."


class InvalidResetToken(MediaNestError):
    status, code = 400, "INVALID_TOKEN"
    message = "This reset link is not valid any more. Ask for a new one."
