"""The floor the HTTP benchmark compares against: FastAPI itself, one `def` route returning a
4-field dict, nothing else (no database, no key, no middleware). bench/http.py serves it with the
same uvicorn settings as `coopledger serve`, on the same machine, right before each scenario.

    .venv/bin/python -m uvicorn bench.trivial_app:app --port 8766
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/trivial")
def trivial() -> dict[str, Any]:
    return {"coop": "mednum-scic", "account": "411", "party": "BEN-01", "balance": "150.00"}
