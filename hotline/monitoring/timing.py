"""How long each Twilio webhook takes to answer, from the first `before_request` (before the signature check) to
the response, labelled with the URL rule, so a path Twilio never calls cannot add a series."""

from __future__ import annotations

import time

from flask import Flask, g, request

from hotline import metrics

WEBHOOK_PREFIX = "/twilio/"


def time_webhooks(app: Flask) -> None:
    """Observe every request under /twilio/ that matched a route, whatever it answered."""

    @app.before_request
    def _start() -> None:
        g.webhook_started = time.perf_counter()

    @app.teardown_request
    def _observe(_error: BaseException | None) -> None:
        started = g.pop("webhook_started", None)
        rule = request.url_rule
        if started is None or rule is None or not rule.rule.startswith(WEBHOOK_PREFIX):
            return
        metrics.observe_webhook(rule.rule, time.perf_counter() - started)
