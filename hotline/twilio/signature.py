"""Only Twilio drives the webhooks: every request under /twilio/ must carry a valid X-Twilio-Signature."""

from __future__ import annotations

import logging

from flask import Request
from twilio.request_validator import RequestValidator, get_signature_algorithm

log = logging.getLogger(__name__)


def signed_url(request: Request, public_url: str | None) -> str:
    """The URL Twilio signed: HOTLINE_PUBLIC_URL plus path and query, or the request's own URL (after ProxyFix)."""
    if public_url:
        query = request.query_string.decode("latin-1")
        return public_url + request.path + (f"?{query}" if query else "")
    return request.url


def is_valid(request: Request, secret: str, public_url: str | None) -> bool:
    """True when the request is signed with `secret` for the URL Twilio called and these exact form fields."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(secret)
    params = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    # Twilio may announce HMAC-SHA256 in this header; without it the signature is the classic HMAC-SHA1.
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    return bool(validator.validate(signed_url(request, public_url), params, signature, algorithm))
