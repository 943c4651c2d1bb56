"""SDK method for model cards: a version's recorded facts as Markdown, HTML or JSON text."""

from __future__ import annotations

from trustplane.client._base import BaseClient, segment

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
        path = f"/model-versions/{segment(version_ref)}/card"
        return self.get_text(path, CARD_MEDIA_TYPES.get(format, "*/*"), format=format)
