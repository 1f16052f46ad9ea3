"""Instructions per webhook request, counted by valgrind's callgrind: repeatable on a noisy, shared machine.

    .venv/bin/python benchmarks/instructions.py [--requests 40] [--warmup 20]

Four cases, in one process, through Flask's test client on one fresh SQLite file (demo mode, the demo roster):
  bare      a bare Flask endpoint answering the greeting's TwiML verbatim
  floor     the unavoidable work of a new call: the form parsed, the signature checked with twilio's
            RequestValidator, the call row inserted-or-ignored (one Core statement), the same TwiML answered
  greeting  the real app: a signed new call, POST /twilio/voice
  step      the real app: one step of the call flow, a caller at the main menu pressing 9 (an answer every
            caller in that state hears alike: after the first, it comes from Runtime.answers, with no session)
Each case is warmed up first (caches filled, statements compiled), then run `--requests` times with callgrind
collecting only inside that run: the run goes through `sys.call_tracing`, whose C function (sys_call_tracing) is
called by nothing else, and callgrind collects inside it and dumps when it returns (`--toggle-collect`,
`--dump-after`). The table gives instructions per request and the ratio to the floor and to bare Flask.
Takes about two minutes (Python runs some 50 times slower under callgrind).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# CPython's C function behind sys.call_tracing: nothing else in this process calls it.
MARKER = "sys_call_tracing"
CASES = ("bare", "floor", "greeting", "step")
STEP = "/twilio/voice/step?v=1&n=main_menu&f=o&l=da&g=1"
CALLER = "+4567000001"  # the Danish reserve series for tests (docs/testing.md)


def _params(sid: str) -> dict[str, str]:
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": "+4568000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def _collected(work: Callable[[], None]) -> None:
    """Run `work` inside CPython's sys.call_tracing, the C function callgrind collects in (see the docstring)."""
    sys.call_tracing(work, ())


def inner(requests: int, warmup: int, work_dir: Path) -> None:
    """The measured process: builds the apps, warms each case up, then runs each where callgrind collects."""
    from flask import Flask, Response, request
    from sqlalchemy import insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    from twilio.request_validator import RequestValidator

    from hotline.app import create_app
    from hotline.db.models import Call, utcnow
    from hotline.db.session import make_engine, upgrade

    logging.disable(logging.WARNING)
    url = f"sqlite:///{work_dir / 'hotline.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "HOTLINE_DATABASE_URL": url,
            "config_path": str(REPO / "config.yaml"),
            "config": {"instance_dir": str(work_dir / "instance"), "logging": {"level": "ERROR"}},
        }
    )
    runtime = app.extensions["hotline"]
    secret = runtime.signing_secret
    validator = RequestValidator(secret)
    client = app.test_client()
    counter = iter(range(10**9))

    def sign(path: str, params: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": validator.compute_signature(f"http://localhost{path}", params)}

    first = _params("CA" + "f" * 32)
    greeting_twiml = client.post("/twilio/voice", data=first, headers=sign("/twilio/voice", first)).data

    bare = Flask("bare")

    @bare.post("/twilio/voice")
    def bare_voice() -> Response:
        return Response(greeting_twiml, mimetype="text/xml")

    floor = Flask("floor")
    floor_engine = runtime.engine
    floor_insert = sqlite_insert(Call).on_conflict_do_nothing(index_elements=["call_sid"])
    assert insert  # the dialect's insert is the one that knows ON CONFLICT

    @floor.post("/twilio/voice")
    def floor_voice() -> Response:
        form = request.form
        if not validator.validate(request.url, form, request.headers.get("X-Twilio-Signature", "")):
            return Response(status=403)
        now = utcnow()
        with floor_engine.begin() as connection:
            connection.execute(
                floor_insert,
                {
                    "call_sid": form["CallSid"],
                    "direction": form.get("Direction", "inbound"),
                    "from_number": form.get("From"),
                    "caller_withheld": False,
                    "to_number": form.get("To"),
                    "status": "ringing",
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return Response(greeting_twiml, mimetype="text/xml")

    bare_client, floor_client = bare.test_client(), floor.test_client()

    # Every new call's form and signature are made before its run: the client's work is not what is counted.
    signed_calls: list[tuple[dict[str, str], dict[str, str]]] = []

    def prepare(count: int) -> None:
        for _ in range(count):
            params = _params(f"CA{next(counter):032d}")
            signed_calls.append((params, sign("/twilio/voice", params)))

    def new_call(c: object) -> Callable[[], None]:
        def run() -> None:
            params, headers = signed_calls.pop()
            answer = c.post("/twilio/voice", data=params, headers=headers)  # type: ignore[attr-defined]
            assert answer.status_code == 200 and answer.data == greeting_twiml, answer.status_code

        return run

    # The flow step: a caller who has been greeted, at the main menu, presses 9 (hear the menu again).
    step_call = _params("CA" + "e" * 32)
    client.post("/twilio/voice", data=step_call, headers=sign("/twilio/voice", step_call))
    step_params = {**step_call, "Digits": "9", "CallStatus": "in-progress"}
    step_headers = sign(STEP, step_params)

    def step() -> None:
        answer = client.post(STEP, data=step_params, headers=step_headers)
        assert answer.status_code == 200 and b"<Gather" in answer.data, answer.data[:200]

    cases: dict[str, Callable[[], None]] = {
        "bare": new_call(bare_client),
        "floor": new_call(floor_client),
        "greeting": new_call(client),
        "step": step,
    }
    for name in CASES:
        prepare(warmup)
        for _ in range(warmup):
            cases[name]()
    for name in CASES:
        run = cases[name]
        prepare(requests)

        def many(run: Callable[[], None] = run) -> None:
            for _ in range(requests):
                run()

        _collected(many)
    runtime.dispose()


def _totals(out_dir: Path) -> list[int]:
    """The instruction totals of the dumps taken after each measured run, in order."""
    dumps = sorted(
        (p for p in out_dir.glob("callgrind.out.*") if re.fullmatch(r"callgrind\.out\.\d+", p.name)),
        key=lambda p: int(p.name.rsplit(".", 1)[1]),
    )
    totals = []
    for dump in dumps:
        match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.MULTILINE)
        if match:
            totals.append(int(match.group(1)))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.requests, args.warmup, args.inner)
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed: apt-get install valgrind (Debian's package)")
    work = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    out = work / "callgrind"
    out.mkdir()
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--toggle-collect={MARKER}",
        f"--dump-after={MARKER}",
        f"--callgrind-out-file={out}/callgrind.out",
        sys.executable,
        __file__,
        "--inner",
        str(work),
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        sys.exit(f"the measured process failed:\n{done.stderr[-3000:]}")
    totals = [t for t in _totals(out) if t > 0]
    if len(totals) < len(CASES):
        sys.exit(f"expected {len(CASES)} dumps with counts, found {totals} in {out}")
    per_request = {name: total / args.requests for name, total in zip(CASES, totals, strict=False)}
    floor, bare = per_request["floor"], per_request["bare"]
    print(f"instructions per request ({args.requests} requests each, after {args.warmup} to warm up)")
    print(f"{'case':10} {'M instr':>9} {'x floor':>8} {'x bare':>7}")
    for name, value in per_request.items():
        print(f"{name:10} {value / 1e6:>9.2f} {value / floor:>8.2f} {value / bare:>7.2f}")
    print(json.dumps({name: round(value) for name, value in per_request.items()}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
