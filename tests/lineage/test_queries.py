"""Each lineage query on a graph built in the test, checked for its exact answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TenantCtx
from tests.factories import bootstrap_tenant
from tests.lineage.kit import Kit, shop_graph
from trustplane.db.session import scope_to_tenant
from trustplane.errors import InvalidInput, NotFound
from trustplane.lineage import attention, queries
from trustplane.lineage.completeness import completeness
from trustplane.lineage.impact import impact
from trustplane.lineage.nodes import InvalidNode

T = TypeVar("T")


@pytest.fixture
def shop(session_factory: sessionmaker[Session], tenant: TenantCtx) -> Kit:
    return shop_graph(session_factory, tenant)


@pytest.fixture
def ask(shop: Kit) -> Iterator[Callable[..., Any]]:
    """Run a lineage service function as the shop's tenant, in a read-only session."""
    sessions: list[Session] = []

    def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        session = shop.factory()
        sessions.append(session)
        scope_to_tenant(session, shop.tenant.id)
        return fn(session, shop.actor, *args, **kwargs)

    yield run
    for session in sessions:
        session.rollback()
        session.close()


def placed(kit: Kit, nodes: Any) -> dict[str, tuple[str, int | None]]:
    return {kit.names(n.id): (n.side, n.depth) for n in nodes}


def test_downstream_of_a_dataset_by_depth(shop: Kit, ask: Callable[..., Any]) -> None:
    ref = "dataset:s3://lake:raw/orders"
    one = ask(queries.walk_graph, ref, "downstream", 1, 500)
    assert placed(shop, one.nodes) == {
        "orders1": ("root", 0),
        "orders2": ("root", 0),
        "etl1": ("downstream", 1),
        "etl2": ("downstream", 1),
    }
    assert one.truncated
    assert sorted((shop.names(e.source), shop.names(e.target)) for e in one.edges) == [
        ("orders1", "etl1"),
        ("orders2", "etl2"),
    ]
    full = ask(queries.walk_graph, ref, "downstream", 20, 500)
    assert placed(shop, full.nodes) == {
        "orders1": ("root", 0),
        "orders2": ("root", 0),
        "etl1": ("downstream", 1),
        "etl2": ("downstream", 1),
        "clean1": ("downstream", 2),
        "clean2": ("downstream", 2),
        "spend1": ("downstream", 3),
        "spend2": ("downstream", 3),
        "train2": ("downstream", 3),
        "train1": ("downstream", 4),
        "churn2": ("downstream", 4),
        "churn1": ("downstream", 5),
    }
    assert not full.truncated
    assert len(full.edges) == 11
    capped = ask(queries.walk_graph, ref, "downstream", 20, 3)
    assert [shop.names(n.id) for n in capped.nodes] == [
        "orders1",
        "orders2",
        "etl1",
        "etl2",
        "clean1",
    ] or len(capped.nodes) == 5
    assert capped.truncated


def test_upstream_of_a_model_version_takes_the_shortest_distance(
    shop: Kit, ask: Callable[..., Any]
) -> None:
    graph = ask(queries.walk_graph, shop["churn1"], "upstream", 20, 500)
    assert placed(shop, graph.nodes) == {
        "churn1": ("root", 0),
        "train1": ("upstream", 1),
        "spend1": ("upstream", 2),
        "age1": ("upstream", 2),
        "clean1": ("upstream", 3),
        "users1": ("upstream", 3),  # via age1, although also 5 edges away via etl1
        "etl1": ("upstream", 4),
        "orders1": ("upstream", 5),
    }
    labels = {shop.names(n.id): n.label for n in graph.nodes}
    assert labels["churn1"] == "churn v1"
    assert labels["users1"] == "postgres://db.internal:5432:shop.public.users@users1"
    assert labels["spend1"] == "spend@spend1"
    assert labels["etl1"] == "job:airflow:clean_orders"
    spend1 = next(n for n in graph.nodes if n.id == shop["spend1"])
    assert spend1.kind == "feature_version"
    assert spend1.details["deprecated"] is True
    assert spend1.details["deprecation_reason"] == "leaks the label"


def test_a_job_names_all_its_runs(shop: Kit, ask: Callable[..., Any]) -> None:
    graph = ask(queries.walk_graph, "job:airflow:clean_orders", "downstream", 1, 500)
    assert placed(shop, graph.nodes) == {
        "etl1": ("root", 0),
        "etl2": ("root", 0),
        "clean1": ("downstream", 1),
        "clean2": ("downstream", 1),
    }


def test_show_lists_direct_neighbours_on_both_sides(shop: Kit, ask: Callable[..., Any]) -> None:
    graph = ask(queries.show, shop["clean2"], 500)
    assert graph.direction == "both"
    assert placed(shop, graph.nodes) == {
        "clean2": ("root", 0),
        "etl2": ("upstream", 1),
        "spend2": ("downstream", 1),
        "train2": ("downstream", 1),
    }
    assert sorted(
        (shop.names(e.source), shop.names(e.target), e.relation) for e in graph.edges
    ) == [
        ("clean2", "spend2", "source"),
        ("clean2", "train2", "input"),
        ("etl2", "clean2", "output"),
        ("spend2", "train2", "input"),  # every edge between two listed nodes
    ]


def test_path_from_a_model_version_back_to_raw_sources(shop: Kit, ask: Callable[..., Any]) -> None:
    found = ask(queries.path, shop["churn1"], 20)
    assert sorted(shop.names([n.id for n in found.sources])) == ["orders1", "users1"]
    assert sorted(shop.names(found.paths)) == [
        ["orders1", "etl1", "clean1", "spend1", "train1", "churn1"],
        ["users1", "age1", "train1", "churn1"],
        ["users1", "etl1", "clean1", "spend1", "train1", "churn1"],
    ]
    assert not found.truncated
    short = ask(queries.path, shop["churn1"], 3)
    assert shop.names(short.paths) == [["users1", "age1", "train1", "churn1"]]
    assert short.truncated  # the paths through etl1 go deeper than 3


def test_path_needs_one_node(shop: Kit, ask: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInput, match="names 2 nodes"):
        ask(queries.path, shop["churn"], 20)


def test_impact_of_a_dataset(shop: Kit, ask: Callable[..., Any]) -> None:
    found = ask(impact, "dataset:s3://lake:raw/orders", limit=50)
    assert found.counts == {
        "dataset_version": 2,
        "feature_version": 2,
        "model_version": 2,
        "run": 4,
    }
    assert found.production_pointers == 1
    assert found.next_cursor is None
    assert sorted(shop.names([n.id for n in found.root])) == ["orders1", "orders2"]
    assert [n.id for n in found.items] == sorted(n.id for n in found.items)
    assert {
        shop.names(n.id): (shop.names([v.id for v in n.via]), n.production_environments)
        for n in found.items
    } == {
        "etl1": (["orders1"], []),
        "etl2": (["orders2"], []),
        "clean1": (["orders1"], []),
        "clean2": (["orders2"], []),
        "spend1": (["orders1"], []),
        "spend2": (["orders2"], []),
        "train1": (["orders1"], []),
        "train2": (["orders2"], []),
        "churn1": (["orders1"], ["prod"]),
        "churn2": (["orders2"], []),
    }
    churn2 = next(n for n in found.items if n.id == shop["churn2"])
    assert (churn2.kind, churn2.label, churn2.details["state"]) == (
        "model_version",
        "churn v2",
        "candidate",
    )
    assert churn2.via[0].reason == "erasure request 42"


def test_models_trained_on_a_deprecated_feature(shop: Kit, ask: Callable[..., Any]) -> None:
    items, nxt = ask(attention.on_deprecated_features, None, None, 50)
    assert nxt is None
    assert [
        (
            shop.names(v.model_version_id),
            v.model_name,
            v.version,
            v.state,
            v.production_environments,
        )
        for v in items
    ] == [("churn1", "churn", 1, "production", ["prod"])]
    assert shop.names([n.id for n in items[0].via]) == ["spend1"]
    assert items[0].via[0].reason == "leaks the label"
    none, _ = ask(attention.on_deprecated_features, shop["age"], None, 50)
    assert none == []
    same, _ = ask(attention.on_deprecated_features, shop["spend"], None, 50)
    assert [v.model_version_id for v in same] == [shop["churn1"]]


def test_versions_that_used_a_flagged_dataset_version(shop: Kit, ask: Callable[..., Any]) -> None:
    items, nxt = ask(attention.on_flagged_datasets, None, None, 50)
    assert nxt is None
    assert [(shop.names(v.model_version_id), v.production_environments) for v in items] == [
        ("churn2", [])
    ]
    assert shop.names([n.id for n in items[0].via]) == ["orders2"]
    assert items[0].via[0].reason == "erasure request 42"
    by_name, _ = ask(attention.on_flagged_datasets, "dataset:s3://lake:raw/orders", None, 50)
    assert [v.model_version_id for v in by_name] == [shop["churn2"]]
    with pytest.raises(InvalidInput, match="does not name a dataset version"):
        ask(attention.on_flagged_datasets, shop["churn"], None, 50)


def test_flagged_production_version_and_paging(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    kit = Kit(session_factory, tenant)
    kit.dataset("d", "s3://x", "d")
    kit.dataset_version("d1", "d", flagged="retention expired")
    kit.run("r", ("d1",))
    kit.model("m")
    for n in range(1, 6):
        kit.model_version(f"m{n}", "m", n, "r", state="production" if n == 5 else "candidate")
    kit.pointer("m5", "prod")
    kit.commit()
    seen: list[str] = []
    cursor = None
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        while True:
            items, cursor = attention.on_flagged_datasets(session, kit.actor, None, cursor, 2)
            seen += [v.model_version_id for v in items]
            if cursor is None:
                break
        assert seen == sorted(kit[f"m{n}"] for n in range(1, 6))
        last, _ = attention.on_flagged_datasets(session, kit.actor, None, seen[3], 50)
    assert [(v.version, v.production_environments) for v in last] == [(5, ["prod"])]


def test_lineage_completeness_per_model_version(shop: Kit, ask: Callable[..., Any]) -> None:
    reports = {shop.names(r.model_version_id): r for r in ask(completeness, shop["churn"])}
    assert sorted(reports) == ["churn1", "churn2"]
    churn1 = reports["churn1"]
    assert churn1.missing == ["input_digests"]
    assert churn1.score == round(6 / 7, 4)
    assert shop["users1"] in next(c.detail for c in churn1.checks if c.name == "input_digests")
    assert reports["churn2"].missing == ["environment_fingerprint"]
    (fraud1,) = ask(completeness, shop["fraud1"])
    assert fraud1.present == ["producing_run"]
    assert fraud1.score == round(1 / 7, 4)
    assert fraud1.missing == [
        "run_inputs",
        "code_repo",
        "code_commit",
        "environment_fingerprint",
        "input_digests",
        "sources_traced",
    ]
    with pytest.raises(InvalidInput, match="not a model version"):
        ask(completeness, shop["train1"])


def test_a_version_without_a_run_scores_zero(
    session_factory: sessionmaker[Session], tenant: TenantCtx
) -> None:
    kit = Kit(session_factory, tenant)
    kit.model("lonely")
    kit.model_version("l1", "lonely", 1, None)
    kit.commit()
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        (report,) = completeness(session, kit.actor, kit["l1"])
    assert report.score == 0.0
    assert report.present == []


def test_queries_end_on_a_cycle(session_factory: sessionmaker[Session], tenant: TenantCtx) -> None:
    """Ingest refuses cycles, but rows written some other way must not hang a query."""
    kit = Kit(session_factory, tenant)
    kit.dataset("d", "s3://x", "d")
    kit.dataset_version("a", "d")
    kit.dataset_version("b", "d")
    kit.run("r1", ("a",), ("b",))
    kit.run("r2", ("b",), ("a",))  # a -> r1 -> b -> r2 -> a
    kit.model("m")
    kit.model_version("m1", "m", 1, "r2")
    kit.commit()
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        down = queries.walk_graph(session, kit.actor, kit["a"], "downstream", 100, 500)
        assert placed(kit, down.nodes) == {
            "a": ("root", 0),
            "r1": ("downstream", 1),
            "b": ("downstream", 2),
            "r2": ("downstream", 3),
            "m1": ("downstream", 4),
        }
        everything = impact(session, kit.actor, kit["a"], limit=50)
        assert everything.counts == {"dataset_version": 1, "model_version": 1, "run": 2}
        assert sorted(kit.names([n.id for n in everything.items])) == ["b", "m1", "r1", "r2"]
        assert all(kit.names([v.id for v in n.via]) == ["a"] for n in everything.items)
        found = queries.path(session, kit.actor, kit["m1"], 20)
        assert found.paths == [] and found.sources == []
        (report,) = completeness(session, kit.actor, kit["m1"])
        assert "sources_traced" in report.missing


def test_other_tenants_nodes_are_not_found(
    shop: Kit, session_factory: sessionmaker[Session]
) -> None:
    other = bootstrap_tenant(session_factory)
    outsider = Kit(session_factory, other)
    with session_factory() as session:
        scope_to_tenant(session, other.id)
        for ref in (shop["churn1"], shop["churn"], "dataset:s3://lake:raw/orders"):
            with pytest.raises(NotFound):
                queries.walk_graph(session, outsider.actor, ref, "upstream", 5, 500)


def test_bad_references(shop: Kit, ask: Callable[..., Any]) -> None:
    with pytest.raises(InvalidNode):
        ask(impact, "model:churn", limit=50)
    with pytest.raises(NotFound, match="dataset 'dataset:s3://lake:nope' not found"):
        ask(impact, "dataset:s3://lake:nope", limit=50)
    with pytest.raises(NotFound, match="job"):
        ask(impact, "job:airflow:nope", limit=50)
