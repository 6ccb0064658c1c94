"""The live observatory's Hub: one thread per app that waits on the projection runner and wakes
every open stream. At shutdown it must stop, and end the streams, before the app closes the store:
a thread still reading a SQLite connection while another thread closes it can crash the process
(seen once in CI, a segmentation fault in the middle of the suite)."""

from __future__ import annotations

import asyncio
import threading

from api.routes_observatory import Hub


def test_closing_the_hub_stops_its_thread_and_wakes_every_stream(runner):
    async def scenario() -> tuple[bool, bool, threading.Thread | None, threading.Thread | None]:
        hub = Hub(runner)
        listener = hub.subscribe()
        thread = hub._thread  # noqa: SLF001 (the thread the first stream started)
        assert thread is not None and thread.is_alive()
        assert not listener[1].is_set()  # nothing moved: no stream was woken
        await asyncio.to_thread(hub.close)
        await asyncio.sleep(0)  # the wake-up was scheduled on this loop
        late = hub.subscribe()  # a stream opening during shutdown starts no new thread
        hub.unsubscribe(listener)
        hub.unsubscribe(late)
        return listener[1].is_set(), hub.closed.is_set(), thread, hub._thread  # noqa: SLF001

    woken, closed, thread, after = asyncio.run(scenario())
    assert woken and closed
    assert thread is not None and not thread.is_alive()  # joined by close()
    assert after is None  # and none started after it


def test_the_app_stops_its_hub_before_closing_the_store(store_url):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from ledger.store import StoreConfig

    app = create_app(StoreConfig.from_url(store_url))
    closed_while_hub_ran: list[bool] = []
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        services = app.state.services
        hub = Hub(services.runner)
        app.state.observatory_hub = hub

        async def subscribe() -> None:
            hub.subscribe()

        client.portal.call(subscribe)  # a stream is open: the hub's thread runs
        thread = hub._thread  # noqa: SLF001 (the thread the open stream started)
        assert hub.listeners() == 1 and thread is not None and thread.is_alive()
        close_store = services.ledger.close

        def close_and_look() -> None:
            closed_while_hub_ran.append(thread.is_alive())
            close_store()

        services.ledger.close = close_and_look  # type: ignore[method-assign]
    assert closed_while_hub_ran == [False]
    assert hub.closed.is_set()
