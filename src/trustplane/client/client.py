"""``TrustplaneClient``: the synchronous Python SDK for the Trustplane API."""

from __future__ import annotations

from trustplane.client._access import AccessMethods
from trustplane.client._cards import CardMethods
from trustplane.client._evidence import EvidenceMethods
from trustplane.client._identity import IdentityMethods
from trustplane.client._ledger import LedgerMethods
from trustplane.client._lineage import LineageMethods
from trustplane.client._oidc import OidcMethods
from trustplane.client._policy import PolicyMethods
from trustplane.client._registry import RegistryMethods


class TrustplaneClient(
    IdentityMethods,
    AccessMethods,
    LedgerMethods,
    OidcMethods,
    LineageMethods,
    RegistryMethods,
    PolicyMethods,
    EvidenceMethods,
    CardMethods,
):
    """A thin, typed wrapper over the HTTP API: every rule is the server's, none is here.

    >>> with TrustplaneClient.from_env() as tp:
    ...     print(tp.whoami().name)

    Methods raise a ``TrustplaneAPIError`` subclass for each problem type the API answers
    with, and ``ConnectionFailed`` when no answer arrives. POST methods take an
    ``idempotency_key`` so a retried call is applied once. Set ``correlation_id`` to have
    your id recorded on the audit events of the calls you make.
    """
