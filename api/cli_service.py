"""Command-line commands for running the service: `serve` and `keys create|list|revoke`."""

from __future__ import annotations

import click

from api import keys as api_keys
from api.roles import ROLES
from api.session import Session
from api.tables import console
from domain.errors import DomainError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (each runs its own projection runner).")
@click.option("--no-projections", is_flag=True,
              help="Run no projection runner in the server: views are kept by `coopledger project` processes.")
@click.pass_obj
def serve(session: Session, host: str, port: int, workers: int, no_projections: bool) -> None:
    """Serve the HTTP API (/v1, /health, /metrics, /docs) with uvicorn."""
    import os

    import uvicorn

    os.environ["COOPLEDGER_DATABASE_URL"] = session.url_for_children()
    if no_projections:
        uvicorn.run("api.cli_runner:app_without_projections", factory=True, host=host, port=port, workers=workers,
                    log_config=None, access_log=False)
        return
    uvicorn.run("api.asgi:app", host=host, port=port, workers=workers, log_config=None, access_log=False)


@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--coop", "coops", required=True, multiple=True, help="Cooperative the key may reach (repeat for several).")
@click.option("--label", default="", help="What the key is for (shown in lists).")
@click.pass_obj
def keys_create(session: Session, role: str, coops: tuple[str, ...], label: str) -> None:
    try:
        key_id, token = api_keys.create_key(session.ledger.db, role=role, coops=list(coops), label=label)
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    console.print(f"key {key_id} ({role}, {', '.join(coops)}) created. Its token, shown only now:", highlight=False)
    click.echo(token)


@keys.command("list")
@click.pass_obj
def keys_list(session: Session) -> None:
    for k in api_keys.list_keys(session.ledger.db):
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        click.echo(f"{k['key_id']}  {k['role']:<9}  {','.join(k['coops'])}  {state}  {k['label']}")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(session: Session, key_id: str) -> None:
    try:
        api_keys.revoke_key(session.ledger.db, key_id)
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"key {key_id} revoked")
