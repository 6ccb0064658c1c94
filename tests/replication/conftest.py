"""A primary and its hot standby of our own per test module (tests/replication/cluster.py).

Skipped on a machine that cannot start them (no PostgreSQL server binaries, no `postgres` user,
not root); under CI=true that FAILS instead: a CI run that skipped replication proved nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.replication.cluster import Cluster, ClusterError


def start_cluster(*, synchronous: bool) -> Cluster:
    try:
        return Cluster.start(synchronous=synchronous)
    except (ClusterError, OSError, KeyError, PermissionError) as exc:  # KeyError: no such user
        message = f"cannot start a PostgreSQL primary and standby here: {type(exc).__name__}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A primary with a synchronous standby (synchronous_commit = on), for the whole module."""
    pair = start_cluster(synchronous=True)
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture(scope="module")
def new_schema(cluster: Cluster) -> Callable[[], str]:
    """A schema of its own on the primary (replicated to the standby), for one store."""

    def make() -> str:
        assert cluster.primary is not None
        schema = f"r_{uuid.uuid4().hex[:12]}"
        cluster.primary.sql(f'CREATE SCHEMA "{schema}"')
        return schema

    return make
