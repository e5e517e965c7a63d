"""Error answers shaped like the real API's (spec section 5)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "RATE_LIMIT_MESSAGE",
    "UPSTREAM_RESET_BODY",
    "GraphQLError",
    "gcs_error",
    "not_found",
]

# Body of an API-limit answer; the SDK maps a top-level message starting "You have exceeded"
# to ApiLimitError.
RATE_LIMIT_MESSAGE = "You have exceeded your API rate limit. Please retry after a short wait."
# Envoy's body when the upstream drops a connection; the SDK maps it to "Connection reset".
UPSTREAM_RESET_BODY = (
    "upstream connect error or disconnect/reset before headers. "
    "reset reason: connection termination"
)


class GraphQLError(Exception):
    """A GraphQL error entry: ``{"message", "extensions": {"code", ...}, ...}``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        self.status = status
        self.extra = extra or {}
        self.http_status = http_status

    def entry(self) -> dict[str, Any]:
        """The error as one element of the response's ``errors`` list."""
        extensions: dict[str, Any] = {"code": self.code}
        if self.status is not None:
            extensions["exception"] = {
                "response": self.message,
                "status": self.status,
                "message": self.message,
            }
        body: dict[str, Any] = {"message": self.message, "locations": [{"line": 1, "column": 1}]}
        if self.path:
            body["path"] = [self.path]
        body["extensions"] = extensions
        body.update(self.extra)
        return body

    @classmethod
    def authentication(cls) -> GraphQLError:
        """A missing or wrong API key."""
        return cls("AUTHENTICATION_ERROR", "Not authenticated: invalid or missing API key")

    @classmethod
    def parse_failed(cls, message: str) -> GraphQLError:
        """A query the server cannot parse or does not know."""
        return cls("GRAPHQL_PARSE_FAILED", message, http_status=400)

    @classmethod
    def malformed(cls, message: str, project_id: str | None, path: str) -> GraphQLError:
        """A request the export service rejects; carries an ``errors`` list (spec 5.2)."""
        errors = [{"error": message, "projectIds": [project_id] if project_id else []}]
        return cls("MALFORMED_REQUEST", message, path=path, extra={"errors": errors})

    @classmethod
    def internal(cls, message: str, status: int | None = None) -> GraphQLError:
        """INTERNAL_SERVER_ERROR, optionally with an ``exception.status`` (426: plan limit)."""
        return cls("INTERNAL_SERVER_ERROR", message, status=status)


def not_found(kind: str, ident: Any, path: str) -> GraphQLError:
    """RESOURCE_NOT_FOUND for a project, task, ..."""
    return GraphQLError("RESOURCE_NOT_FOUND", f"Resource not found: {kind} {ident}", path=path)


def gcs_error(code: str, message: str, details: str) -> bytes:
    """An XML error body in the style of Cloud Storage signed-URL failures."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Details>{details}</Details></Error>"
    ).encode()
