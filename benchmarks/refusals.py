"""What a request Twilio never sends costs to refuse, beside a normal new call, in the same process.

    .venv/bin/python benchmarks/refusals.py [--repeat 200]

Each case is posted `--repeat` times through the real app (Flask's test client, signed as Twilio signs, on a
fresh SQLite file) and timed per request; the table gives the median and the ratio to the normal call:

  normal call      a signed new call: /twilio/voice, the call row written, the language menu answered
  oversized form   176 KB in 44,000 fields (under web.max_request_bytes; refused with 413 before parsing)
  many fields      250 fields in 3 KB, signed (413, counted before parsing)
  multipart        a multipart body signed for the URL alone (415)
  unsigned         a normal call without a signature (403, after the cheap checks)
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app import create_app
from hotline.db.session import make_engine, upgrade

REPO = Path(__file__).resolve().parents[1]
FORM = "application/x-www-form-urlencoded"


def _params(index: int) -> dict[str, str]:
    return {
        "CallSid": f"CA{index:032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": "+4567000001",  # the Danish reserve series for tests (docs/testing.md)
        "To": "+4568000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench-refusals-"))
    url = f"sqlite:///{work / 'hotline.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "HOTLINE_DATABASE_URL": url,
            "config_path": str(REPO / "config.yaml"),
            "config": {"instance_dir": str(work / "instance"), "logging": {"level": "ERROR"}},
        }
    )
    client = app.test_client()
    validator = RequestValidator(app.extensions["hotline"].signing_secret)
    counter = iter(range(10**9))

    def signed(params: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": validator.compute_signature("http://localhost/twilio/voice", params)}

    def normal(c: FlaskClient) -> int:
        params = _params(next(counter))
        return c.post("/twilio/voice", data=params, headers=signed(params)).status_code

    # Bodies encoded once, up front: the client's own encoding is not what is measured.
    huge_body = (urlencode(_params(0)) + "&a=1" * 44_000).encode()  # 176 KB: under Flask's 256 KiB limit
    huge_headers = signed(_params(0))
    many = {**_params(0), **{f"x{i}": "" for i in range(250)}}
    many_body, many_headers = urlencode(many).encode(), signed(many)
    multipart_body = (
        b'--xyz\r\nContent-Disposition: form-data; name="CallSid"\r\n\r\nCA' + b"1" * 32 + b"\r\n--xyz--\r\n"
    )

    cases: list[tuple[str, Callable[[FlaskClient], int]]] = [
        ("normal call", normal),
        (
            "oversized form",
            lambda c: (
                c.post("/twilio/voice", data=huge_body, content_type=FORM, headers=huge_headers).status_code
            ),
        ),
        (
            "many fields",
            lambda c: (
                c.post("/twilio/voice", data=many_body, content_type=FORM, headers=many_headers).status_code
            ),
        ),
        (
            "multipart",
            lambda c: (
                c.post(
                    "/twilio/voice",
                    data=multipart_body,
                    content_type="multipart/form-data; boundary=xyz",
                    headers=signed({}),
                ).status_code
            ),
        ),
        ("unsigned", lambda c: c.post("/twilio/voice", data=_params(next(counter))).status_code),
    ]
    results: dict[str, tuple[float, int]] = {}
    for name, case in cases:
        times, status = [], 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            status = case(client)
            times.append(time.perf_counter() - started)
        results[name] = (statistics.median(times), status)
    base = results["normal call"][0]
    print(f"{'case':16} {'status':>6} {'median ms':>10} {'x normal':>9}")
    for name, (median, status) in results.items():
        print(f"{name:16} {status:>6} {median * 1000:>10.3f} {median / base:>9.2f}")
    app.extensions["hotline"].dispose()


if __name__ == "__main__":
    main()
