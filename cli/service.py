"""Command-line commands for running the service: `serve` and `keys create|list|revoke`."""

from __future__ import annotations

import click

from api import keys as api_keys
from api.roles import ROLES
from cli import tables
from cli.session import Session
from cli.tables import console
from domain.errors import DomainError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (each runs its own projection runner).")
@click.option(
    "--no-projections",
    is_flag=True,
    help="Run no projection runner in the server: views are kept by `coopledger project` processes.",
)
@click.pass_obj
def serve(session: Session, host: str, port: int, workers: int, no_projections: bool) -> None:
    """Serve the HTTP API (/v1, /health, /metrics, /docs) with uvicorn.

    Logs one line per request on stderr (level INFO unless COOPLEDGER_LOG_LEVEL says otherwise;
    COOPLEDGER_LOG_FORMAT=json|console).
    """
    import os

    import uvicorn

    from api import logs

    session.allow_create()
    # A server says what it does: an access line per request unless the operator chose a level.
    os.environ.setdefault("COOPLEDGER_LOG_LEVEL", "INFO")
    logs.configure()
    os.environ["COOPLEDGER_DATABASE_URL"] = session.url_for_children()
    state = "" if session.config.exists() else " (new: created on start)"
    click.echo(
        f"coopledger serves {session.config.describe()}{state} on http://{host}:{port} "
        f"(API docs: http://{host}:{port}/docs; log level {os.environ['COOPLEDGER_LOG_LEVEL']}; Ctrl-C stops)"
    )
    if no_projections:
        uvicorn.run(
            "cli.runner:app_without_projections",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
        )
        return
    uvicorn.run("api.asgi:app", host=host, port=port, workers=workers, log_config=None, access_log=False)


@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke."""


def _known_coops(session: Session, wanted: tuple[str, ...]) -> None:
    """A key bound to a cooperative that does not exist would open nothing, silently."""
    known = session.coops(None)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise click.ClickException(
            f"--coop: no cooperative {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(known) or 'none'}; rule known_cooperative)"
        )


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--coop", "coops", required=True, multiple=True, help="Cooperative the key may reach (repeat for several).")
@click.option("--label", default="", help="What the key is for (shown in lists).")
@click.pass_obj
def keys_create(session: Session, role: str, coops: tuple[str, ...], label: str) -> None:
    """Create a key for a role and one or more cooperatives; its token is printed once, never stored."""
    session.allow_create()
    _known_coops(session, coops)
    try:
        key_id, token = api_keys.create_key(session.ledger.db, role=role, coops=list(coops), label=label)
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    console.print(
        f"clé {key_id} ({role}, {', '.join(coops)}) créée. Son jeton, montré cette fois seulement :"
        if session.lang == "fr"
        else f"key {key_id} ({role}, {', '.join(coops)}) created. Its token, shown only now:",
        highlight=False,
    )
    click.echo(token)


@keys.command("list")
@click.pass_obj
def keys_list(session: Session) -> None:
    """List every key: id, role, cooperatives, state and label (never the token)."""
    table = tables.new_table(
        "Clés d'API" if session.lang == "fr" else "API keys",
        [("key", "left"), ("role", "left"), ("coops", "left"), ("state", "left"), ("created", "left"), ("label", "left")],
        session.lang,
    )
    for k in api_keys.list_keys(session.ledger.db):
        state = (
            f"{tables.t('revoked', session.lang)} {k['revoked_at'][:19]}" if k["revoked_at"] else tables.t("active", session.lang)
        )
        table.add_row(k["key_id"], k["role"], ", ".join(k["coops"]), state, str(k.get("created_at", ""))[:19], k["label"])
    console.print(table)


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(session: Session, key_id: str) -> None:
    """Revoke a key by its id: requests with it are refused from now on."""
    try:
        api_keys.revoke_key(session.ledger.db, key_id)
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"clé {key_id} révoquée" if session.lang == "fr" else f"key {key_id} revoked")
