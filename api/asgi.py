"""The ASGI entry point for uvicorn: the store comes from COOPLEDGER_DATABASE_URL."""

from api import logs
from api.app import create_app

logs.configure()
app = create_app()
