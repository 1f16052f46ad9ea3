"""GET /metrics in Prometheus' text format, for the addresses in `web.metrics_allow` and for a bearer token
(HOTLINE_METRICS_TOKEN); everyone else gets 403.

One process: this process's instruments plus the gauges read from the database. Under gunicorn
(PROMETHEUS_MULTIPROC_DIR set by `hotline serve --workers`): every worker's counts added up from their files,
plus the gauges, read once by the worker that answers the scrape."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Network, IPv6Network, ip_address

from flask import Blueprint, Response, abort, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hotline import metrics
from hotline.monitoring.collector import LineCollector
from hotline.web import current_runtime

log = logging.getLogger(__name__)

bp = Blueprint("monitoring", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    if not _allowed():
        log.warning("metrics: refused", extra={"remote": request.remote_addr})
        abort(403)
    registry = CollectorRegistry(auto_describe=False)
    directory = metrics.multiprocess_directory()
    if directory is not None:
        MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    else:
        registry.register(_Everything(REGISTRY))
    registry.register(LineCollector(current_runtime()))
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)


class _Everything(Collector):
    """This process's own registry (our instruments, the process and Python collectors), passed through."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()


def _allowed() -> bool:
    settings = current_runtime().settings
    token = settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return True
    return _address_in(request.remote_addr, settings.file.web.metrics_networks())


def _address_in(address: str | None, networks: Iterable[IPv4Network | IPv6Network]) -> bool:
    if not address:
        return False
    try:
        client = ip_address(address)
    except ValueError:
        return False
    if client.version == 6 and client.ipv4_mapped is not None:  # ::ffff:127.0.0.1
        client = client.ipv4_mapped
    return any(client in network for network in networks)
