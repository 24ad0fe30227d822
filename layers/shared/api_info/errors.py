"""Typed exceptions carrying the contract's error codes; api.py turns them into HTTP answers."""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """An error with a contract code, an HTTP status and a message a Jira admin can act on."""

    status: ClassVar[int] = 500
    code: str = "internal_error"
    default_message: ClassVar[str] = "Something went wrong on our side. Try again in a few minutes."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.retry_after = retry_after
        super().__init__(self.message)


class BadRequest(ApiError):
    status = 400
    code = "bad_request"
    default_message = "The request body must be a JSON object."


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"
    default_message = "The request is not signed in. Reopen the app from Jira and try again."


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    default_message = "Only Jira administrators can view or change the API information."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "There is nothing at this address."


class IdempotencyKeyReused(ApiError):
    status = 409
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used for a different request. Use a new key."


class ChangeInProgress(ApiError):
    status = 409
    code = "change_in_progress"
    default_message = "Another change of this credential is under way. Wait a moment and try again."


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    default_message = "The request is larger than 8 KiB. Shorten the values you entered and try again."


class ValidationFailed(ApiError):
    status = 422
    code = "validation_error"
    default_message = "Some fields are missing or not valid."


class CredentialRejected(ApiError):
    """Atlassian said no to a credential being saved (or checked): its kind's code and what it means
    (credentials/: each kind declares its refusals)."""

    status = 422

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests for this site. Wait a little and try again."


class AtlassianError(ApiError):
    status = 502
    code = "atlassian_error"
    default_message = "Atlassian answered with an error. Try again in a few minutes."


class AtlassianUnavailable(ApiError):
    status = 503
    code = "atlassian_unavailable"
    default_message = "Atlassian could not be reached just now. Try again in a few minutes."


class UnsafeUrl(Forbidden):
    """A URL taken from a token points somewhere this service never calls."""

    default_message = "This request names an Atlassian site that this service does not call."
