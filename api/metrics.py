"""Prometheus metrics, served at /metrics: request latency, commands, projection lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "coopledger_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
COMMANDS = Counter("coopledger_commands_total", "Commands by outcome", ["command", "outcome"], registry=REGISTRY)
PROJECTION_LAG = Gauge("coopledger_projection_lag_positions", "Log positions recorded but not yet projected", registry=REGISTRY)
# Reads from hot standbys (ledger/replicas.py): where each read went, and why a standby was skipped.
READS = Counter(
    "coopledger_reads_total",
    "Read requests by the database that answered (primary, or a standby host:port)",
    ["database"],
    registry=REGISTRY,
)
STANDBY_SKIPPED = Counter(
    "coopledger_standby_skipped_total",
    "Reads that skipped a standby, by reason (down, not_standby, lagging, behind)",
    ["standby", "reason"],
    registry=REGISTRY,
)
STANDBY_UP = Gauge("coopledger_standby_up", "1 when the standby serves reads", ["standby"], registry=REGISTRY)
STANDBY_REPLAY_LAG_MS = Gauge(
    "coopledger_standby_replay_lag_ms",
    "Age of the standby's last replayed commit while it is behind the primary's WAL; 0 when caught up",
    ["standby"],
    registry=REGISTRY,
)
STANDBY_LAG_POSITIONS = Gauge(
    "coopledger_standby_lag_positions",
    "Log positions projected on the primary and not yet on the standby",
    ["standby"],
    registry=REGISTRY,
)
