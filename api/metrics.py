"""Prometheus metrics, served at /metrics: request latency, commands, projection lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "coopledger_request_seconds", "HTTP request latency", ["method", "route", "status"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
COMMANDS = Counter("coopledger_commands_total", "Commands by outcome", ["command", "outcome"], registry=REGISTRY)
PROJECTION_LAG = Gauge("coopledger_projection_lag_positions", "Log positions recorded but not yet projected", registry=REGISTRY)
