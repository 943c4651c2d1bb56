"""The HTTP plumbing every SDK method shares: headers, errors, parsing and pagination."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from trustplane import __version__
from trustplane.client.errors import ConnectionFailed, UnexpectedResponse, from_response
from trustplane.client.models import ApiModel, Page

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
API_PREFIX = "/api/v1"

M = TypeVar("M", bound=ApiModel)
T = TypeVar("T")


def segment(value: str) -> str:
    """Quote an id for use as one path segment, so no id can reach another route."""
    return quote(value, safe="")


class BaseClient:
    """Holds the connection; the public methods live in the mixins that share it."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        http: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        correlation_id: str | None = None,
    ) -> None:
        """``http`` replaces the transport (an in-process test client, a proxy-aware client);
        the caller then owns it and ``close`` leaves it open."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.correlation_id = correlation_id
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)

    @classmethod
    def from_env(cls, **kwargs: Any) -> Self:
        """Configure from ``TRUSTPLANE_URL`` and ``TRUSTPLANE_TOKEN``, as the CLI does."""
        url = os.environ.get("TRUSTPLANE_URL") or DEFAULT_URL
        token = os.environ.get("TRUSTPLANE_TOKEN") or None
        return cls(url, token, **kwargs)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def _headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"trustplane-python/{__version__}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.correlation_id:
            headers["X-Correlation-ID"] = self.correlation_id
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def exchange(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request under ``/api/v1``; a problem answer or no answer at all raises."""
        url = f"{self.base_url}{API_PREFIX}{path}"
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ConnectionFailed(self.base_url, "no answer in time") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ConnectionFailed(self.base_url, str(exc) or type(exc).__name__) from None
        if not response.is_success:
            raise from_response(response)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one request under ``/api/v1`` and return its parsed JSON, or raise."""
        response = self.exchange(
            method,
            path,
            params=_query(params or {}),
            json=json,
            headers=self._headers(idempotency_key),
        )
        return parsed(response)

    def get_text(self, path: str, accept: str, **params: Any) -> str:
        """A GET under ``/api/v1`` whose answer is text (a key, a card), not JSON."""
        headers = {**self._headers(None), "Accept": f"{accept}, application/problem+json"}
        return self.exchange("GET", path, params=_query(params), headers=headers).text

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.from_api(self.request("GET", path, params=params))

    def _post(
        self, model: type[M], path: str, body: Mapping[str, Any], idempotency_key: str | None
    ) -> M:
        payload = {k: _jsonable(v) for k, v in body.items() if v is not None}
        return model.from_api(
            self.request("POST", path, json=payload, idempotency_key=idempotency_key)
        )

    # -- pagination -----------------------------------------------------------------------

    def paginate(self, fetch: Callable[..., Page[T]], /, **kwargs: Any) -> Iterator[T]:
        """Every item of a list, following ``next_cursor`` page by page.

        ``fetch`` is any ``list_*`` method (or ``audit_events``); ``kwargs`` are its filters.
        """
        cursor = kwargs.pop("cursor", None)
        while True:
            page = fetch(cursor=cursor, **kwargs)
            yield from page.items
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor


def parsed(response: httpx.Response) -> Any:
    """The JSON of a successful answer (None if it has no body)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        snippet = " ".join(response.text.split())[:120]
        raise UnexpectedResponse(response.status_code, snippet or "empty body") from None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _query(params: Mapping[str, Any]) -> dict[str, str | int | bool]:
    """Drop unset filters so the server's defaults apply; render times as RFC 3339."""
    return {k: _jsonable(v) for k, v in params.items() if v is not None}
