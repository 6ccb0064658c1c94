"""The cooperative's domain: aggregates, events, rules. Imports no database or web code."""
