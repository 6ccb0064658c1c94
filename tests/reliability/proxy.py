"""A loopback TCP proxy that the tests can cut and restore: the service talks to PostgreSQL
through it, so an outage can be staged without touching the shared PostgreSQL server.

Cut: every open connection is shut down and new ones are accepted then closed at once
(the client sees the server go away, as when PostgreSQL restarts). Restore: new connections
pass again. Threads, not asyncio: one pair of pump threads per connection, a handful here.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)  # the accept loop checks `closed` this often
        self.port = int(self._listener.getsockname()[1])
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.refused = 0  # connections closed at once while cut
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for s in sockets:
            _shut(s)

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                self.refused += 1
                _shut(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=3)
            except OSError:
                _shut(client)
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            _shut(src)
            _shut(dst)


def _shut(s: socket.socket) -> None:
    """shutdown() wakes a thread blocked in recv() on the socket; close() alone may not."""
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
