"""The HTTP API (FastAPI): routes generated from the commands, keys and roles, problem+json errors,
the change feed and webhooks, metrics, and the observatory's pages. Imports nothing from cli/."""
