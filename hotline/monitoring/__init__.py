"""/metrics: Prometheus' text format, with who may read it; webhook timing; the gauges read from the database."""

from hotline.monitoring.endpoint import bp
from hotline.monitoring.timing import time_webhooks

__all__ = ["bp", "time_webhooks"]
