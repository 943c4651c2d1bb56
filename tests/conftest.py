"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Outside CI, a missing PostgreSQL skips its half with a visible notice; under CI (``CI=true``)
it fails the run, so a green CI always means both backends passed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.backends import SKIP_NOTICES, postgres_database, require_postgres, sqlite_database
from trustplane.api.app import create_app
from trustplane.config import Settings
from trustplane.db.migrate import upgrade
from trustplane.db.session import make_engine, make_session_factory

BACKENDS = ("sqlite", "postgresql")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in SKIP_NOTICES:
        terminalreporter.write_sep("!", line, yellow=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated database for this test run, one per backend."""
    if request.param == "postgresql":
        require_postgres()
        with postgres_database() as url:
            upgrade(url)
            yield url
        return
    with sqlite_database(tmp_path_factory.mktemp("sqlite")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url=database_url,
        checkpoint_interval_seconds=0,  # periodic checkpoints off: tests sign them explicitly
        waiver_sweep_interval_seconds=0,  # likewise: tests sweep with an injected clock
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(scope="session")
def app_client(settings: Settings) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
    with client:
        yield client


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    app_client.headers.clear()
    return app_client


@dataclass
class TenantCtx:
    """A freshly bootstrapped tenant: each test gets its own, so tests never see each other."""

    id: str
    name: str
    admin_id: str
    admin_token: str

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@pytest.fixture
def tenant(session_factory: sessionmaker[Session]) -> TenantCtx:
    from tests.factories import bootstrap_tenant

    return bootstrap_tenant(session_factory)


@pytest.fixture
def tmp_home(tmp_path: Path) -> Path:
    return tmp_path
