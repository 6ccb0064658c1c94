"""A PostgreSQL URL naming a schema that does not exist: a new store creates it; a user who may not
create it gets one clear line, not a traceback."""

from __future__ import annotations

import uuid

import pytest

from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.conftest import PG_DBNAME, PG_HOST, PG_PORT, PG_USER, _pg_admin, _require_postgres


def _url(schema: str, user: str = PG_USER) -> str:
    return f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DBNAME}?schema={schema}"


def test_a_missing_schema_is_created_by_a_new_store():
    _require_postgres()
    schema = f"t_new_{uuid.uuid4().hex[:12]}"
    try:
        ledger = Ledger(StoreConfig.from_url(_url(schema)))
        try:
            assert ledger.position() == 0
        finally:
            ledger.close()
        assert StoreConfig.from_url(_url(schema)).pg_schema == schema
    finally:
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_schema_the_user_may_not_create_is_refused_in_one_line():
    _require_postgres()
    role = "coopledger_no_create"
    _pg_admin(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    schema = f"t_denied_{uuid.uuid4().hex[:12]}"
    with pytest.raises(RuntimeError) as refused:
        Ledger(StoreConfig.from_url(_url(schema, role)))
    message = str(refused.value)
    assert f"schema {schema!r} does not exist" in message and "create it, or name another schema" in message
    assert "\n" not in message
