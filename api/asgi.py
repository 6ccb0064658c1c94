"""The ASGI entry point for uvicorn: the store comes from COOPLEDGER_DATABASE_URL."""

from api import logs
from api.app import create_app
from ledger import gc_tuning

logs.configure()
app = create_app(warm=True)
gc_tuning.tune()  # each server process, once its app is built (ledger/gc_tuning.py)
