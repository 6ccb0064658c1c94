"""The settings of replication: a primary URL listing several hosts (failover), and the standbys
that serve reads. No server needed."""

from __future__ import annotations

import pytest

from ledger.db import Database
from ledger.store import StoreConfig, read_configs

FAILOVER = "postgresql://ledger@10.0.0.1:5433,10.0.0.2:5434/books?schema=s&target_session_attrs=read-write"


def test_a_url_listing_two_hosts_connects_to_whichever_accepts_writes():
    config = StoreConfig.from_url(FAILOVER)
    assert (config.pg_host, config.pg_port, config.pg_more_hosts) == ("10.0.0.1", 5433, (("10.0.0.2", 5434),))
    env = config.eventsourcing_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("10.0.0.1,10.0.0.2", "5433,5434")
    assert env["PERSISTENCE_MODULE"] == "ledger.failover:FailoverPostgresFactory"
    assert env["POSTGRES_TARGET_SESSION_ATTRS"] == "read-write"
    db = Database.__new__(Database)  # its conninfo only: no pool opened
    db.config, db.connect_timeout_s = config, 1
    assert "host=10.0.0.1,10.0.0.2 port=5433,5434" in db.conninfo() and "target_session_attrs=read-write" in db.conninfo()
    assert config.describe() == FAILOVER


def test_a_host_without_port_gets_5432_and_a_bad_port_or_attribute_is_named():
    assert StoreConfig.from_url("postgresql://u@a,b:7/d").pg_more_hosts == (("b", 7),)
    assert StoreConfig.from_url("postgresql://u@a,b:7/d").pg_port == 5432
    with pytest.raises(ValueError, match="port of host 'b:x'"):
        StoreConfig.from_url("postgresql://u@a,b:x/d")
    with pytest.raises(ValueError, match="target_session_attrs"):
        StoreConfig.from_url("postgresql://u@a/d?target_session_attrs=writable")


def test_read_urls_are_standbys_on_the_primarys_schema_unless_named():
    primary = StoreConfig.from_url("postgresql://u@p:5432/d?schema=books")
    found = read_configs(primary, "postgresql://u@s1:5433/d, postgresql://u@s2:5434/d?schema=other")
    assert [(c.pg_host, c.pg_port, c.pg_schema) for c in found] == [("s1", 5433, "books"), ("s2", 5434, "other")]
    assert read_configs(primary, "") == []
    with pytest.raises(ValueError, match="one host"):
        read_configs(primary, "postgresql://u@s1,s2/d")
    with pytest.raises(ValueError, match="PostgreSQL primary"):
        read_configs(StoreConfig.from_url("sqlite:///x.sqlite"), "postgresql://u@s1/d")
