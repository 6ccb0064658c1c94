"""Response models of the HTTP API: what each read answers, amounts in the wire's form (api/wire.py)."""
