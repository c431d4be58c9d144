"""Google-shaped API errors: {"error": {"code", "message", "status", ...}}."""
from __future__ import annotations

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

DEFAULT_MESSAGES = {
    401: "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' "
    "of service 'sheets.googleapis.com'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


class ApiError(Exception):
    """An error the double answers with, in Google's JSON shape."""

    def __init__(self, code: int, message: str | None = None, status: str | None = None,
                 details: list | None = None, errors: list | None = None):
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details
        self.errors = errors
        super().__init__(f"{code} {self.status}: {self.message}")

    def body(self) -> dict:
        err: dict = {"code": self.code, "message": self.message}
        if self.errors is not None:  # Drive's legacy shape carries errors[] before status
            err["errors"] = self.errors
        err["status"] = self.status
        if self.details is not None:
            err["details"] = self.details
        return {"error": err}


def bad_request(message: str, field: str | None = None) -> ApiError:
    details = None
    if field is not None:
        details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": field, "description": message}]}]
    return ApiError(400, message, details=details)


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    return ApiError(404, message)


def drive_not_found(file_id: str) -> ApiError:
    msg = f"File not found: {file_id}."
    return ApiError(404, msg, errors=[{"message": msg, "domain": "global", "reason": "notFound",
                                        "location": "fileId", "locationType": "parameter"}])


def drive_rate_limited() -> ApiError:
    msg = "User Rate Limit Exceeded. Rate of requests for user exceed configured project quota."
    return ApiError(403, msg, errors=[{"message": msg, "domain": "usageLimits",
                                        "reason": "userRateLimitExceeded"}])
