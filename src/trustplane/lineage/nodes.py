"""Node references: how people and tools name a node of the lineage graph (pure, no I/O).

A reference is one of

* ``dataset:NAMESPACE:NAME`` or ``job:NAMESPACE:NAME``, the Marquez node id form, where
  NAMESPACE and NAME are OpenLineage's (``dataset:s3://lake:raw/events``,
  ``dataset:postgres://db.internal:5432:shop.public.orders``, ``job:airflow:etl.load``);
* a Trustplane id: ``dv_``, ``fv_``, ``run_``, ``mv_`` (one node), or ``ds_``, ``ft_``,
  ``mdl_`` (every version of that dataset, feature or model).

Namespaces often contain colons, so the split between namespace and name follows the
OpenLineage naming spec (namespace = ``scheme://authority``) instead of splitting blindly:

1. ``scheme://authority`` namespaces (``s3://lake``, ``postgres://host:5432``,
   ``kafka://b1:9092,b2:9092``) end at the first colon after the authority; a ``:digits``
   right after the host is the port, so it stays in the namespace when another colon follows.
   Anything between the authority and that colon (``s3://lake/prefix``) stays too.
2. AWS ARN namespaces (``arn:aws:glue:eu-west-1:123456789012``) keep their five fields.
3. Any other namespace (``airflow``, ``food_delivery``) ends at the first colon.

The name is the rest and may hold colons. Marquez splits at the first colon that is followed
by neither ``//`` nor a digit; we agree with it on every id it parses correctly and also parse
names that begin with a digit (``s3://lake:2024/events``) and ARN namespaces.

When a namespace does not fit those rules, or its first field holds a ``%``, write the
percent-encoded form (RFC 3986): ``dataset:ENCODED_NAMESPACE:ENCODED_NAME`` with no raw colon
in either part and a ``%`` in the namespace (encode any one character if none needs it).
:func:`format_node` picks the raw form when it parses back exactly, else the encoded one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from trustplane.errors import InvalidInput

NamedKind = Literal["dataset", "job"]

#: Id prefix -> node kind. Graph nodes are the versions and runs; the others stand for all
#: of their versions. New node kinds (deployments...) are added here.
ID_KINDS: dict[str, str] = {
    "dv": "dataset_version",
    "fv": "feature_version",
    "run": "run",
    "mv": "model_version",
    "ds": "dataset",
    "ft": "feature",
    "mdl": "model",
}
GRAPH_KINDS = frozenset({"dataset_version", "feature_version", "run", "model_version"})
MAX_PART = 500  # the registry's namespace and name columns

_ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
_ID = re.compile(rf"^(?P<prefix>{'|'.join(ID_KINDS)})_{_ULID}$")
_HOSTPORT = r"(?:\[[^\]/]*\]|[^/:,\[\]?#]*)(?::[0-9]+)?"
_URI_NAMESPACE = re.compile(
    rf"^(?P<ns>[A-Za-z][A-Za-z0-9+.\-]*://{_HOSTPORT}(?:,{_HOSTPORT})*[^:]*):(?P<name>.+)$",
    re.DOTALL,
)
_ARN_NAMESPACE = re.compile(r"^(?P<ns>arn(?::[^:]*){4}):(?P<name>.+)$", re.DOTALL)
_PLAIN_NAMESPACE = re.compile(r"^(?P<ns>[^:]+):(?P<name>.+)$", re.DOTALL)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class InvalidNode(InvalidInput):
    """A node reference that is not one of the accepted forms."""

    code = "invalid-node"


@dataclass(frozen=True, slots=True)
class NamedNode:
    """An OpenLineage dataset or job, by namespace and name."""

    kind: NamedKind
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class IdNode:
    """A Trustplane id; ``kind`` comes from its prefix."""

    id: str
    kind: str


NodeRef = NamedNode | IdNode


def kind_of(node_id: str) -> str:
    """The node kind of an id, from its prefix (``unknown`` for a prefix we do not know)."""
    return ID_KINDS.get(node_id.partition("_")[0], "unknown")


def parse_node(text: str) -> NodeRef:
    """Parse a node reference, or raise :class:`InvalidNode` saying what is wrong."""
    match = _ID.match(text)
    if match is not None:
        return IdNode(text, ID_KINDS[match["prefix"]])
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("dataset", "job"):
        raise InvalidNode(
            f"'{_show(text)}' is not a node: expected dataset:NAMESPACE:NAME, "
            "job:NAMESPACE:NAME or a Trustplane id (dv_, fv_, run_, mv_, ds_, ft_, mdl_)"
        )
    namespace, name = _split(rest, text)
    for part, value in (("namespace", namespace), ("name", name)):
        if len(value) > MAX_PART:
            raise InvalidNode(f"the {part} of '{_show(text)}' is longer than {MAX_PART}")
    return NamedNode(kind, namespace, name)  # type: ignore[arg-type]


def format_node(node: NodeRef) -> str:
    """The canonical text of a reference: :func:`parse_node` gives back an equal one."""
    if isinstance(node, IdNode):
        return node.id
    if not node.namespace or not node.name:
        raise InvalidNode("a dataset or job needs a namespace and a name")
    raw = f"{node.kind}:{node.namespace}:{node.name}"
    if "%" not in node.namespace.partition(":")[0]:
        try:
            if parse_node(raw) == node:
                return raw
        except InvalidNode:
            pass
    namespace = quote(node.namespace, safe="")
    if "%" not in namespace:  # mark the encoded form: encode the first character too
        namespace = f"%{ord(namespace[0]):02X}{namespace[1:]}"
    return f"{node.kind}:{namespace}:{quote(node.name, safe='')}"


def _split(rest: str, text: str) -> tuple[str, str]:
    if "%" in rest.partition(":")[0]:
        return _split_encoded(rest, text)
    uri = _SCHEME.match(rest) is not None
    for pattern in (_URI_NAMESPACE,) if uri else (_ARN_NAMESPACE, _PLAIN_NAMESPACE):
        match = pattern.match(rest)
        if match is not None:
            return match["ns"], match["name"]
    raise InvalidNode(f"'{_show(text)}' needs a namespace and a name: KIND:NAMESPACE:NAME")


def _split_encoded(rest: str, text: str) -> tuple[str, str]:
    parts = rest.split(":")
    if len(parts) != 2 or not all(parts):
        raise InvalidNode(
            f"'{_show(text)}' looks percent-encoded (a '%' in the namespace), so it must be "
            "KIND:ENCODED_NAMESPACE:ENCODED_NAME with no raw ':' inside the parts"
        )
    decoded = []
    for part in parts:
        if _BAD_ESCAPE.search(part):
            raise InvalidNode(f"'{_show(text)}' has a bad percent escape; write '%' as '%25'")
        try:
            decoded.append(unquote(part, errors="strict"))
        except UnicodeDecodeError:
            raise InvalidNode(f"'{_show(text)}' does not decode as UTF-8") from None
    return decoded[0], decoded[1]


def _show(text: str) -> str:
    """The reference as quoted back in an error: bounded and on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."
