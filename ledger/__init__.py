"""The application layer: command handling, idempotency, persistence configuration."""
