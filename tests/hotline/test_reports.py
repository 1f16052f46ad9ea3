"""The managers' reports: each figure equals what the test counts from the rows it built by hand (the headline
"kept in window" with callbacks reached inside, after, never and still open), the Copenhagen hour buckets on both
DST Sundays, the lists behind the figures, the CSV (parsed and compared to the list), the audit rows, the roles."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.db.models import AuditEntry, Recording, SmsOptOut
from hotline.services import reports
from hotline.services.reports import Drill, Kept, TextAnswer
from routing.report_periods import Period
from routing.wallclock import COPENHAGEN
from tests.helpers import TwilioSigner, add_staff, call_params, console_login, utc
from tests.report_rows import Rows, number

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))
NOW = utc(2026, 7, 1, 10)  # after the period: every window and promise in it has passed
QUERY = "from=2026-06-01&to=2026-06-30"


@pytest.fixture
def rows(app: Flask) -> Iterator[Rows]:
    with app.extensions["hotline"].sessions.begin() as session:
        yield Rows(session)


def figures(app: Flask, period: Period = JUNE, now: datetime = NOW) -> reports.Figures:
    with app.extensions["hotline"].sessions() as session:
        return reports.figures(session, period, now)


# Callbacks by hand: (window start, window end, state, reached at, counted as). Window in June, unless noted.
D = utc(2026, 6, 10, 15)
H = timedelta(hours=1)
CALLBACKS = [
    ((D, D + 4 * H), "reached", D + H, Kept.KEPT),
    ((D, D + 4 * H), "reached", D + 4 * H, Kept.KEPT),  # at the window's end: inside, both ends included
    ((D, D + 4 * H), "reached", D, Kept.KEPT),  # at its start
    ((D, D + 4 * H), "reached", D + 5 * H, Kept.OUTSIDE),  # after the window
    ((D, D + 4 * H), "reached", D - H, Kept.OUTSIDE),  # before it
    ((D, D + 4 * H), "not_reached", None, Kept.NOT_REACHED),
    ((D, D + 4 * H), "scheduled", None, Kept.OPEN),  # still open, its window over
    ((D, D + 4 * H), "in_progress", None, Kept.OPEN),
    ((D, D + 4 * H), "cancelled", None, None),  # called off: not counted
    (
        (utc(2026, 5, 31, 12), utc(2026, 5, 31, 20)),
        "reached",
        utc(2026, 5, 31, 13),
        None,
    ),  # window before June
    (
        (utc(2026, 6, 30, 20), utc(2026, 6, 30, 23)),
        "reached",
        utc(2026, 6, 30, 21),
        None,
    ),  # ends 1 July 01:00 local
    ((NOW - H, NOW + 3 * H), "scheduled", None, None),  # its window has not ended yet
]


def test_the_headline_counts_callbacks_kept_inside_their_window(app: Flask, rows: Rows) -> None:
    for window, state, reached, _ in CALLBACKS:
        rows.callback(window, state, reached_at=reached)
    rows.callback((D, D + 4 * H), "not_reached", retry_at=NOW + H)  # a retry is still to come: open
    rows.session.commit()
    expected = Counter(counted for *_, counted in CALLBACKS if counted is not None)
    expected[Kept.OPEN] += 1
    # The test's own count from the rows: reached, and the reaching inside [start, end].
    kept_by_hand = sum(
        1
        for (start, end), state, reached, _ in CALLBACKS
        if state == "reached"
        and reached is not None
        and start <= reached <= end
        and JUNE.start <= end < JUNE.end
    )
    got = figures(app)
    assert got.kept[Kept.KEPT] == kept_by_hand == 3
    assert got.kept == {k: expected.get(k, 0) for k in Kept}
    assert got.kept_cohort == 9
    assert got.cancelled == 1
    with app.extensions["hotline"].sessions() as session:
        for kept in Kept:
            total, listed = reports.drill_page(session, Drill(f"callbacks_{kept.value}"), JUNE, NOW)
            assert total == len(listed) == expected.get(kept, 0)


def test_overdue_now_is_open_callbacks_past_their_due_time(app: Flask, rows: Rows) -> None:
    rows.callback((D, D + H), "scheduled", due_at=NOW - H)
    rows.callback((D, D + H), "not_reached", due_at=NOW - 2 * H)  # open: a retry may follow
    rows.callback((D, D + H), "scheduled", due_at=NOW + H)  # not yet due
    rows.callback((D, D + H), "reached", reached_at=D, due_at=NOW - H)  # done
    rows.callback((D, D + H), "cancelled", due_at=NOW - H)
    rows.session.commit()
    assert figures(app).overdue == 2


def test_answered_by_a_human_and_the_time_to_one(app: Flask, rows: Rows) -> None:
    waits = [12.0, 30.5, 8.0, 45.0, 19.0, 90.0, 27.0, 33.0, 61.0, 15.0, 22.0]
    at = utc(2026, 6, 3, 9)
    for i, wait in enumerate(waits):
        rows.call(at + i * H, answered_after=wait, language="ar" if i % 3 == 0 else "da")
    for i in range(4):
        rows.call(at + 20 * H + i * H, routed=True, language="pl")  # asked for an advisor, nobody answered
    for i in range(3):
        rows.call(at + 30 * H + i * H)  # information only: never put through
    rows.call(at, direction="outbound-api", answered_after=5.0)  # not a call to the hotline
    rows.call(utc(2026, 5, 31, 21, 59), answered_after=1.0)  # 31 May 23:59 in Copenhagen: before the period
    rows.session.commit()
    got = figures(app)
    assert (got.calls, got.routed, got.human) == (18, 15, 11)
    deciles = statistics.quantiles(waits, n=10, method="inclusive")  # percentile_cont's interpolation
    assert got.to_human_measured == len(waits)
    assert got.to_human[0.5] == pytest.approx(statistics.median(waits), abs=0.05)
    assert got.to_human[0.9] == pytest.approx(deciles[8], abs=0.05)
    assert dict(got.languages) == {"da": 7, "ar": 4, "pl": 4}
    assert got.languages[0] == ("da", 7)
    with app.extensions["hotline"].sessions() as session:
        assert reports.drill_page(session, Drill.CALLS_HUMAN, JUNE, NOW)[0] == 11
        assert reports.drill_page(session, Drill.CALLS_MISSED, JUNE, NOW)[0] == 4
        assert reports.drill_page(session, Drill.CALLS_LANGUAGE, JUNE, NOW, language="ar")[0] == 4
        total, page = reports.drill_page(session, Drill.CALLS, JUNE, NOW)
        assert total == 18 and page[0].at > page[-1].at  # newest first


def test_a_retried_press_1_keeps_the_first_time_to_a_human(
    rostered: Flask, rows: Rows, twilio: TwilioSigner
) -> None:
    """Twilio retries a webhook it got no answer to: the advisor's "1" arriving again later must not move the
    moment the caller reached a human, nor count the call twice."""
    at = utc(2026, 6, 3, 9)
    sid = rows.call(at, routed=True)
    rows.session.commit()
    accept = f"/twilio/voice/whisper/accept?parent={sid}&step=0&advisor=anna"
    leg = call_params(from_="+4568000000", CallStatus="in-progress", Digits="1")
    for after in (20, 300):  # pressed 20 s into the call; the same request again four minutes later
        with time_machine.travel(at + timedelta(seconds=after), tick=False):
            assert twilio.post(accept, leg).status_code == 200
    got = figures(rostered)
    assert (got.routed, got.human, got.to_human_measured) == (1, 1, 1)
    assert got.to_human[0.5] == got.to_human[0.9] == 20.0


# Both DST Sundays of 2026, from 20:00 UTC the evening before to 04:00 UTC, every 20 minutes, and a July day.
DST_INSTANTS = [
    start + timedelta(minutes=20 * k)
    for start in (utc(2026, 3, 28, 20), utc(2026, 10, 24, 20))
    for k in range(24)
] + [utc(2026, 7, 14, h, 30) for h in range(0, 24, 5)]


def test_hour_and_weekday_buckets_follow_copenhagen_clocks_on_both_dst_sundays(
    app: Flask, rows: Rows
) -> None:
    for at in DST_INSTANTS:
        rows.call(at)
    rows.session.commit()
    local = [at.astimezone(COPENHAGEN) for at in DST_INSTANTS]
    expected_hours = Counter(t.hour for t in local)
    expected_days = Counter(t.isoweekday() for t in local)
    period = Period(date(2026, 3, 28), date(2026, 10, 26))
    got = figures(app, period)
    assert got.by_hour == tuple(expected_hours.get(h, 0) for h in range(24))
    assert got.by_weekday == tuple(expected_days.get(d, 0) for d in range(1, 8))
    # 02:xx never happens on the March Sunday, and twice on the October one.
    assert not [t for t in local if t.date() == date(2026, 3, 29) and t.hour == 2]
    assert len([t for t in local if t.date() == date(2026, 10, 25) and t.hour == 2]) == 6
    # One DST Sunday alone: its 23 and 25 hours are its whole period.
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25)):
        one = figures(app, Period(day, day))
        assert Period(day, day).end - Period(day, day).start == timedelta(hours=hours)
        inside = [t for t in local if t.date() == day]
        assert sum(one.by_hour) == len(inside)
        assert one.by_weekday[6] == len(inside)  # a Sunday


def test_texts_answered_within_their_promise(app: Flask, rows: Rows) -> None:
    at = utc(2026, 6, 5, 8)
    rows.text(at, at + 4 * H, who=11, reply_at=at + H)  # in time
    rows.text(at, at + 4 * H, who=12, reply_at=at + 4 * H)  # at the promise: in time
    rows.text(at, at + 4 * H, who=13, reply_at=at + 6 * H)  # late
    rows.text(at, at + 4 * H, who=14)  # never answered
    rows.text(
        at, at + 4 * H, who=15, reply_at=at + H, reply_state="refused"
    )  # a refused reply answers nothing
    callback = rows.callback((at, at + 4 * H), "reached", reached_at=at + H, who=16)
    rows.text(at, at + 4 * H, who=16, handed=callback)  # handed to the queue
    rows.text(at + 2 * H, at + 6 * H, who=17, reply_at=at + H)  # a reply before the question answers it not
    rows.text(NOW - H, NOW + H, who=18)  # its promise has not passed: not counted yet
    rows.text(utc(2026, 5, 20, 8), utc(2026, 5, 20, 12), who=19)  # before the period
    rows.session.commit()
    got = figures(app).texts
    assert got == {
        TextAnswer.IN_TIME: 2,
        TextAnswer.LATE: 1,
        TextAnswer.UNANSWERED: 3,
        TextAnswer.CALLBACK: 1,
    }


def test_fallback_voicemails_and_opt_outs(app: Flask, rows: Rows) -> None:
    for i, (source, at) in enumerate(
        [
            ("fallback", utc(2026, 6, 2, 3)),
            ("fallback", utc(2026, 6, 9)),
            ("call", utc(2026, 6, 9)),
            ("fallback", utc(2026, 7, 2)),
        ]
    ):
        rows.session.add(
            Recording(
                recording_sid=f"RE{i:032d}",
                call_sid=f"CA{i:032d}",
                source=source,
                received_at=at,
                from_number=number(40 + i),
            )
        )
    for i, at in enumerate((utc(2026, 6, 1), utc(2026, 6, 29, 21, 59), utc(2026, 6, 30, 22))):
        rows.session.add(SmsOptOut(phone_number=number(50 + i), source="stop", opted_out_at=at))
    rows.session.commit()
    got = figures(app)
    assert (got.fallback, got.opt_outs) == (2, 2)


# --- the pages --------------------------------------------------------------------------------------------------


@pytest.fixture
def manager(app: Flask, client: FlaskClient) -> FlaskClient:
    add_staff(app, "carl", role="manager", advisor_id=None)
    console_login(client, "carl")
    return client


def seed_page(app: Flask) -> None:
    with app.extensions["hotline"].sessions.begin() as session:
        rows = Rows(session)
        for i in range(55):
            rows.call(utc(2026, 6, 4, 6) + i * timedelta(minutes=30), who=i % 7, answered_after=10.0 + i)
        for window, state, reached, _ in CALLBACKS:
            rows.callback(window, state, reached_at=reached)


def test_a_manager_sees_the_dashboard_the_lists_and_the_csv(app: Flask, client: FlaskClient) -> None:
    seed_page(app)
    add_staff(app, "carl", role="manager", advisor_id=None)
    manager = client
    with time_machine.travel(NOW):  # the period is over, whatever day the suite runs on
        console_login(manager, "carl")
        page = manager.get(f"/console/reports?{QUERY}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert '<span id="kept-share">37,5</span>' in text  # 3 of 8
        assert "3 af 8 tilbagekald" in text
        assert "<svg" in text and "style=" not in text
        listing = manager.get(f"/console/reports/list/calls?{QUERY}&page=2")
        assert listing.status_code == 200
        body = listing.get_data(as_text=True)
        assert "55 i alt" in body and body.count("<tr>") == 1 + 5  # the header and the last 5 of 55
        assert "+45 67 10 00 0" in body  # a manager sees the numbers in full
        exported = manager.get(f"/console/reports/list/callbacks_kept.csv?{QUERY}")
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        raw = exported.get_data()
        assert raw.startswith("\ufeff".encode())
        parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        figures_csv = manager.get(f"/console/reports/figures.csv?{QUERY}").get_data().decode("utf-8-sig")
    header, *lines = parsed
    assert header[0] == "Tidspunkt" and header[-1] == "Pårørende"
    with app.extensions["hotline"].sessions() as session:
        _, listed = reports.drill_page(session, Drill.CALLBACKS_KEPT, JUNE, NOW)
    assert len(lines) == len(listed) == 3
    assert [line[3] for line in lines] == [f"PL-2026-{row.details[0][-4:]}" for row in listed]
    assert [line[-1] for line in lines] == [str(row.relative_id) for row in listed]
    assert [datetime.fromisoformat(line[0]) for line in lines] == [row.at for row in listed]
    figures_rows = dict(csv.reader(io.StringIO(figures_csv), delimiter=";"))
    assert figures_rows["callbacks_kept"] == "3" and figures_rows["calls"] == "55"
    with app.extensions["hotline"].sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.actor == "carl")).all()
    assert [(e.action, e.subject) for e in entries if e.subject and e.subject.startswith("report:")] == [
        ("viewed", "report:calls"),
        ("exported", "report:callbacks_kept"),
    ]
    exported_entry = next(e for e in entries if e.action == "exported")
    assert exported_entry.detail == "2026-06-01..2026-06-30: 3 rows as CSV, numbers shown"


def test_a_bad_period_is_answered_in_danish_and_an_unknown_list_is_404(manager: FlaskClient) -> None:
    page = manager.get("/console/reports?from=2026-06-30&to=2026-06-01")
    assert page.status_code == 400
    assert "Slutdatoen ligger før startdatoen." in page.get_data(as_text=True)
    assert manager.get("/console/reports?from=juni&to=2026-06-01").status_code == 400
    assert manager.get("/console/reports?from=2020-01-01&to=2026-06-01").status_code == 400
    assert manager.get("/console/reports?preset=forever").status_code == 400
    assert manager.get("/console/reports?preset=last_month").status_code == 200
    assert manager.get(f"/console/reports/list/everything?{QUERY}").status_code == 404
    assert manager.get(f"/console/reports/list/calls?{QUERY}&page=x").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/console/reports?{QUERY}",
        f"/console/reports/list/calls?{QUERY}",
        f"/console/reports/list/calls.csv?{QUERY}",
        f"/console/reports/figures.csv?{QUERY}",
    ],
)
def test_an_advisor_may_not_see_the_reports(rostered: Flask, client: FlaskClient, path: str) -> None:
    add_staff(rostered, "anna")
    console_login(client, "anna")
    assert client.get(path).status_code == 403
    assert "Rapporter" not in client.get("/console/").get_data(as_text=True)
