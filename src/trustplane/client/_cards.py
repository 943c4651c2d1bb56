"""SDK method for model cards: a version's recorded facts as Markdown, HTML or JSON text."""

from __future__ import annotations

import httpx

from trustplane.client._base import API_PREFIX, BaseClient, segment
from trustplane.client.errors import ConnectionFailed, from_response

#: What each format asks the server for.
CARD_MEDIA_TYPES = {
    "markdown": "text/markdown",
    "html": "text/html",
    "json": "application/json",
}


class CardMethods(BaseClient):
    def model_card(self, version_ref: str, format: str = "markdown") -> str:
        """The model card of ``version_ref`` (``mv_...`` or ``MODEL@N``) as text.

        ``format`` is ``markdown`` (default), ``html`` or ``json`` (the JSON text of the card's
        facts and its Markdown). The server resolves ``MODEL@N`` and checks the format.
        """
        url = f"{self.base_url}{API_PREFIX}/model-versions/{segment(version_ref)}/card"
        accept = CARD_MEDIA_TYPES.get(format, "*/*")
        headers = {**self._headers(None), "Accept": f"{accept}, application/problem+json"}
        try:
            response = self._http.get(url, params={"format": format}, headers=headers)
        except httpx.TimeoutException:
            raise ConnectionFailed(self.base_url, "no answer in time") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ConnectionFailed(self.base_url, str(exc) or type(exc).__name__) from None
        if not response.is_success:
            raise from_response(response)
        return response.text
