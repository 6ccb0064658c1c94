"""The ASGI entry point for uvicorn: the store comes from COOPLEDGER_DATABASE_URL."""

from api import logs, server_gc
from api.app import create_app

logs.configure()
app = create_app()
server_gc.tune()  # each server process, once its app is built (api/server_gc.py)
