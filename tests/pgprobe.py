"""Is the test PostgreSQL reachable? Exit 0 yes; 3 no (skip); 1 no, but HOTLINE_REQUIRE_POSTGRES=1 (CI) wants it."""

from __future__ import annotations

import os
import sys

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def main() -> int:
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL") or DEFAULT_URL
    try:
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1":
            print(f"PostgreSQL is required here but not reachable at {url}: {reason}", file=sys.stderr)
            print(
                "Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set HOTLINE_TEST_POSTGRES_URL.",
                file=sys.stderr,
            )
            return 1
        print(f"skipping the PostgreSQL pass: not reachable at {url} ({reason})")
        return 3
    print(f"PostgreSQL reachable at {url}: running the suite on it too")
    return 0


if __name__ == "__main__":
    sys.exit(main())
