"""Running the WSGI app: the embedded single-process server, or gunicorn for production."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# A connection that sends nothing for this long is closed: a slow or stuck client cannot hold a thread forever.
READ_TIMEOUT_SECONDS = 30


def make_embedded_server(
    app: Flask, host: str, port: int, read_timeout: float = READ_TIMEOUT_SECONDS
) -> BaseWSGIServer:
    """The threaded development-grade server the embedded default runs, with a read timeout per connection."""

    class Handler(WSGIRequestHandler):
        timeout = read_timeout  # socketserver sets it on each connection's socket

    return make_server(host, port, app, threaded=True, request_handler=Handler)


def run_embedded(app: Flask, host: str, port: int) -> None:
    """A threaded server in this process (the scheduler runs beside it); stops cleanly on SIGTERM/SIGINT."""
    server = make_embedded_server(app, host, port)

    def _stop(*_: Any) -> None:
        import threading

        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.serve_forever()


def run_gunicorn(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    threads: int = 4,
    on_worker_exit: Callable[[int], None] | None = None,
) -> None:
    """gunicorn with `workers` processes of `threads` threads each; `on_worker_exit(pid)` runs in the master
    when a worker has exited."""
    from gunicorn.app.base import BaseApplication

    def fresh_connections(server: Any, worker: Any) -> None:
        """Each worker opens its own database connections: a pooled one must never cross a fork."""
        runtime = app.extensions.get("hotline")
        if runtime is not None:
            runtime.engine.dispose(close=False)
            runtime.console_engine.dispose(close=False)

    def worker_exited(server: Any, worker: Any) -> None:
        if on_worker_exit is not None:
            on_worker_exit(worker.pid)

    class _Application(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type information
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 30)
            self.cfg.set("post_fork", fresh_connections)
            self.cfg.set("child_exit", worker_exited)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn 25+ opens a control socket at one fixed path in $HOME: two hosts' gunicorns on one
                # machine would take each other's, and a hardened unit has no writable home. Nothing uses it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return app

    _Application().run()
