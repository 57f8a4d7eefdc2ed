"""RFC 9457 problem details: every error either API answers, with no internal names in it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from rtcc_gateway.storage_guard import STORAGE_ERRORS, StorageUnavailableError

PROBLEM_JSON = "application/problem+json"
STORAGE_RETRY_AFTER_S: Final = 30

# Told of every storage error a handler ran into (rolls back, logs once a minute); set by the app.
STORAGE_ERROR_KEY: web.AppKey[Callable[[BaseException], Awaitable[None]]] = web.AppKey(
    "storage_error"
)


def problem(
    status: int,
    detail: str,
    *,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A problem-details response for `status`."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if invalid_params:
        body["invalid_params"] = invalid_params
    return web.json_response(body, status=status, content_type=PROBLEM_JSON, headers=headers)


class ProblemRaised(Exception):  # noqa: N818 - it carries a response, it is not an error
    """Raised by a handler's helpers to answer with a ready problem response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.reason)
        self.response = response


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's own HTTP errors (404, 405, 413 …) and crashes into problem details."""
    try:
        return await handler(request)
    except ProblemRaised as raised:
        return raised.response
    except (StorageUnavailableError, *STORAGE_ERRORS) as err:
        # The data folder cannot be written (full disk, I/O error): a 503 the caller may retry,
        # logged once a minute rather than per request.
        if not isinstance(err, StorageUnavailableError) and STORAGE_ERROR_KEY in request.app:
            await request.app[STORAGE_ERROR_KEY](err)
        return problem(
            503,
            "The gateway cannot use its data folder just now; try again later.",
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)},
        )
    except web.HTTPException as exc:
        if exc.status < 400:  # noqa: PLR2004 - redirects and the like pass through
            raise
        return problem(exc.status, _detail_for(exc), headers=_kept_headers(exc))
    except Exception:
        request.app.logger.exception(
            "unhandled error answering %s %s", request.method, request.path
        )
        return problem(500, "The gateway could not handle this request.")


def _detail_for(exc: web.HTTPException) -> str:
    if exc.status == 404:  # noqa: PLR2004
        return "No such resource."
    if exc.status == 405:  # noqa: PLR2004
        return "Method not allowed on this resource."
    if exc.status == 413:  # noqa: PLR2004
        return "Request body too large."
    return exc.reason


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
