"""One command-line invocation's access to the store: opened once, projections kept current."""

from __future__ import annotations

import click

from cli import tables
from domain.errors import NotFound
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.registry import cooperative_slugs
from projections.runner import ProjectionRunner


def missing_store_message(config: StoreConfig) -> str:
    where = f"{config.sqlite_path.resolve()}" if config.sqlite_path is not None else config.describe()
    return (
        f"no store at {where} ({config.describe()}); nothing was created. Choose the store with "
        "COOPLEDGER_DATABASE_URL or --database-url (sqlite:///path or postgresql://...), "
        "or run this from the folder that holds var/coopledger.sqlite; `coopledger demo` creates a demo store."
    )


class Session:
    """Opens the store once per invocation and keeps the projections current."""

    def __init__(self, url: str | None, lang: str) -> None:
        self.url = url
        self.config = StoreConfig.from_url(url)
        self.lang = lang
        self._ledger: Ledger | None = None
        self._runner: ProjectionRunner | None = None
        self.may_create = False  # only commands that write may create the store (allow_create)

    def allow_create(self) -> None:
        """Called by the commands that write (demo, record, restore, keys create, serve)."""
        self.may_create = True

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            # A reading command on a missing store would show empty books as if they were gone.
            existed = self.config.exists()
            if not existed and not self.may_create:
                raise click.ClickException(missing_store_message(self.config))
            try:
                self._ledger = Ledger(self.config)
            except RuntimeError as exc:  # a store that cannot be opened or made: said in one line
                raise click.ClickException(str(exc)) from None
            migrate(self._ledger.db)
            if not existed:
                click.echo(f"created a new store: {self.config.describe()}", err=True)
        return self._ledger

    @property
    def runner(self) -> ProjectionRunner:
        if self._runner is None:
            self._runner = ProjectionRunner(self.ledger)
        return self._runner

    def current(self) -> ProjectionRunner:
        """Catches the projections up, with a progress bar when there is much to do."""
        behind = self.ledger.position() - self.runner.position()
        if behind > 20_000 and tables.console.is_terminal:
            with tables.progress() as bar:
                task = bar.add_task("projections", total=behind)
                self.runner.catch_up(lambda done, total: bar.update(task, completed=done))
        else:
            self.runner.catch_up()
        return self.runner

    def coops(self, only: str | None) -> list[str]:
        self.current()
        slugs = cooperative_slugs(self.ledger.db)
        if only is None:
            return slugs
        if only not in slugs:
            raise NotFound("coop", "known_cooperative", f"no cooperative {only!r} (known: {', '.join(slugs) or 'none'})")
        return [only]

    def one_coop(self, only: str | None) -> str:
        """The cooperative a one-cooperative command works on: --coop, or the only one in the store."""
        slugs = self.coops(only)
        if len(slugs) != 1:
            raise click.UsageError(f"--coop is needed: the store holds {', '.join(slugs) or 'no cooperative'}")
        return slugs[0]

    def url_for_children(self) -> str:
        """The store URL for processes this one starts (server workers)."""
        return self.url or f"sqlite:///{self.config.sqlite_path}"

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
