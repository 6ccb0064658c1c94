"""eventsourcing's PostgreSQL factory, with libpq's target_session_attrs on its pool.

With a URL listing the primary and its standby (`host1:port1,host2:port2`) and
`target_session_attrs=read-write`, every new connection goes to whichever host accepts writes:
after the standby is promoted, the pool's checked connections (POSTGRES_PRE_PING) are replaced by
connections to it, and the service carries on without a restart (docs/scaling.md, failover).
eventsourcing has no setting for it, so the factory adds it before the pool is first opened.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresFactory

TARGET_SESSION_ATTRS = "POSTGRES_TARGET_SESSION_ATTRS"


class FailoverPostgresFactory(PostgresFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        attrs = self.env.get(TARGET_SESSION_ATTRS)
        if attrs:
            # The pool is created closed (open=False): every connection it makes carries this.
            self.datastore.pool.kwargs["target_session_attrs"] = attrs
