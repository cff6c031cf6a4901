"""Business days and hours on the Japanese and Korean calendars."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kizuna.automation import business_time as bt
from kizuna.automation.models import BusinessCalendar, CompanyDayOff
from kizuna.automation.services import calendar_update, day_off_add, day_off_delete

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
D = datetime.date


def at(*args, tz=TOKYO) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz)


@pytest.fixture
def jp(db):
    return bt.load_calendar()


@pytest.fixture
def kr(db):
    BusinessCalendar.objects.create(country="KR", time_zone="Asia/Seoul")
    return bt.load_calendar()


def test_golden_week_is_skipped(jp):
    # 2026: 4/29 昭和の日 (Wed), 5/3-5/5, 5/6 振替休日 (Wed).
    assert bt.add_business_days(D(2026, 4, 28), 1, calendar=jp) == D(2026, 4, 30)
    assert bt.add_business_days(D(2026, 4, 30), 1, calendar=jp) == D(2026, 5, 1)
    assert bt.add_business_days(D(2026, 4, 30), 2, calendar=jp) == D(2026, 5, 7)
    assert bt.add_business_days(D(2026, 5, 7), -2, calendar=jp) == D(2026, 4, 30)
    assert not bt.is_business_day(D(2026, 5, 6), calendar=jp)


def test_obon_is_not_a_public_holiday(jp):
    # 8/11 山の日 is; お盆 (8/13-8/15) is not, unless the company takes it off.
    assert not bt.is_business_day(D(2026, 8, 11), calendar=jp)
    assert bt.is_business_day(D(2026, 8, 13), calendar=jp)
    assert bt.add_business_days(D(2026, 8, 12), 1, calendar=jp) == D(2026, 8, 13)


def test_a_company_day_off_counts(org):
    day_off_add(actor=org.admin, date=D(2026, 8, 13), name="お盆休み")
    day_off_add(actor=org.admin, date=D(2026, 8, 14), name="お盆休み")
    cal = bt.load_calendar()
    assert bt.add_business_days(D(2026, 8, 12), 1, calendar=cal) == D(2026, 8, 17)
    assert bt.business_hours_between(at(2026, 8, 12, 17), at(2026, 8, 17, 10), calendar=cal) == 2


def test_weekends_are_skipped(jp):
    assert bt.add_business_days(D(2026, 11, 27), 1, calendar=jp) == D(2026, 11, 30)
    # Friday 17:00 + 3 h = Monday 11:00.
    assert bt.add_business_hours(at(2026, 11, 27, 17), 3, calendar=jp) == at(2026, 11, 30, 11)


def test_seollal_and_chuseok(kr):
    # 설날 2026-02-16..18 (Mon-Wed); 추석 2026-09-24..26 (Thu-Sat).
    assert bt.add_business_days(D(2026, 2, 13), 1, calendar=kr) == D(2026, 2, 19)
    assert bt.add_business_days(D(2026, 9, 23), 1, calendar=kr) == D(2026, 9, 28)
    assert bt.add_business_hours(at(2026, 2, 13, 17, tz=SEOUL), 2, calendar=kr) == at(
        2026, 2, 19, 10, tz=SEOUL
    )
    # Japan works on those days.
    jp = bt.Calendar(**{**kr.__dict__, "country": "JP"})
    assert bt.is_business_day(D(2026, 2, 17), calendar=jp)


def test_a_late_lead_gets_48_business_hours(jp):
    # Arrives Friday 2026-11-20 at 23:10; 11/23 (Mon) is 勤労感謝の日. 48 h at
    # 9 h a day: 11/24-11/27 (36 h), 11/30 (9 h), then 3 h on 12/01.
    due = bt.add_business_hours(at(2026, 11, 20, 23, 10), 48, calendar=jp)
    assert due == at(2026, 12, 1, 12)
    assert bt.business_hours_between(at(2026, 11, 20, 23, 10), due, calendar=jp) == 48


def test_hours_inside_one_day_and_across_the_edges(jp):
    assert bt.add_business_hours(at(2026, 6, 1, 8), 1, calendar=jp) == at(2026, 6, 1, 10)
    assert bt.add_business_hours(at(2026, 6, 1, 17, 30), 1, calendar=jp) == at(2026, 6, 2, 9, 30)
    assert bt.add_business_hours(at(2026, 6, 1, 18), 0, calendar=jp) == at(2026, 6, 2, 9)
    assert bt.add_business_hours(at(2026, 6, 1, 10), 1.5, calendar=jp) == at(2026, 6, 1, 11, 30)
    assert bt.business_hours_between(at(2026, 6, 1, 12), at(2026, 6, 1, 13), calendar=jp) == 1
    assert bt.business_hours_between(at(2026, 6, 1, 19), at(2026, 6, 2, 8), calendar=jp) == 0
    assert bt.business_hours_between(at(2026, 6, 2, 10), at(2026, 6, 1, 17), calendar=jp) == -2


def test_times_in_another_zone_are_read_in_the_calendar_zone(jp):
    utc = datetime.UTC
    # 00:00 UTC is 09:00 in Tokyo.
    assert bt.add_business_hours(
        datetime.datetime(2026, 6, 1, 0, tzinfo=utc), 2, calendar=jp
    ) == at(2026, 6, 1, 11)


def test_naive_times_and_negative_hours_are_refused(jp):
    with pytest.raises(ValueError):
        bt.add_business_hours(datetime.datetime(2026, 6, 1, 9), 1, calendar=jp)
    with pytest.raises(ValueError):
        bt.add_business_hours(at(2026, 6, 1, 9), -1, calendar=jp)


def test_the_sla_clock_uses_the_controllable_clock(jp):
    arrived = at(2026, 5, 1, 17)  # Friday before the Golden Week holidays
    with time_machine.travel(at(2026, 5, 7, 10), tick=False):
        # 1 h on 5/1, nothing 5/2-5/6, 1 h on 5/7.
        assert bt.business_hours_since(arrived, calendar=jp) == 2


@pytest.mark.django_db
def test_working_hours_and_days_are_the_orgs(org):
    calendar_update(
        actor=org.admin,
        country="JP",
        time_zone="Asia/Tokyo",
        work_start=datetime.time(10, 0),
        work_end=datetime.time(16, 0),
        workdays=[1, 2, 3, 4, 5, 6],
    )
    cal = bt.load_calendar()
    # Saturday works now, 10:00-16:00.
    assert bt.add_business_hours(at(2026, 11, 27, 15), 3, calendar=cal) == at(2026, 11, 28, 12)


@pytest.mark.django_db
def test_bad_calendars_are_refused_and_write_nothing(org):
    good = dict(
        country="JP",
        time_zone="Asia/Tokyo",
        work_start=datetime.time(9),
        work_end=datetime.time(18),
        workdays=[1, 2, 3, 4, 5],
    )
    for bad in (
        {"workdays": []},
        {"work_end": datetime.time(8)},
        {"time_zone": "Mars/Olympus"},
        {"country": "XX"},
    ):
        with pytest.raises(ValidationError):
            calendar_update(actor=org.admin, **{**good, **bad})
    assert not BusinessCalendar.objects.exists()
    with pytest.raises(PermissionDenied):
        calendar_update(actor=org.manager, **good)
    with pytest.raises(PermissionDenied):
        day_off_add(actor=org.rep, date=D(2026, 1, 2), name="x")


@pytest.mark.django_db
def test_days_off_once_each_and_removable(org):
    day = day_off_add(actor=org.admin, date=D(2026, 12, 29), name="年末休暇")
    with pytest.raises(ValidationError):
        day_off_add(actor=org.admin, date=D(2026, 12, 29), name="again")
    day_off_delete(actor=org.admin, day_off=day)
    assert not CompanyDayOff.objects.exists()


@pytest.mark.django_db
def test_calendar_page(client, org):
    client.force_login(org.admin)
    page = client.get("/settings/calendar/")
    assert page.status_code == 200
    response = client.post(
        "/settings/calendar/",
        {
            "country": "KR",
            "time_zone": "Asia/Seoul",
            "work_start": "09:00",
            "work_end": "08:00",
            "workdays": ["1", "2"],
        },
    )
    assert response.status_code == 200
    assert "Work must end after it starts." in response.content.decode()
    response = client.post(
        "/settings/calendar/days-off/", {"date": "2099-08-13", "name": "お盆休み"}
    )
    assert response.status_code == 302
    assert "お盆休み" in client.get("/settings/calendar/").content.decode()
    client.force_login(org.rep)
    assert client.get("/settings/calendar/").status_code == 403
