"""NCRONTAB schedules: the next occurrences a timer trigger would fire at."""

from datetime import UTC, datetime, timedelta

import pytest

from devhost.ncrontab import CronSchedule, IntervalSchedule, ScheduleError, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def occurrences(expression: str, start: str, count: int) -> list[str]:
    schedule = parse_schedule(expression)
    when, found = at(start), []
    for _ in range(count):
        when = schedule.next_after(when)
        found.append(when.strftime("%Y-%m-%d %a %H:%M:%S"))
    return found


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # every 5 minutes, at second 0
        ("0 */5 * * * *", "2024-01-01T00:03:10", ["2024-01-01 Mon 00:05:00", "2024-01-01 Mon 00:10:00"]),
        # every 15 seconds
        ("*/15 * * * * *", "2024-01-01T00:00:00", ["2024-01-01 Mon 00:00:15", "2024-01-01 Mon 00:00:30"]),
        # hourly at minute 0 (the product's default reconcile schedule)
        ("0 0 * * * *", "2024-01-01T10:00:00", ["2024-01-01 Mon 11:00:00", "2024-01-01 Mon 12:00:00"]),
        # 09:30 on weekdays, by range of names
        ("0 30 9 * * Mon-Fri", "2024-01-05T10:00:00", ["2024-01-08 Mon 09:30:00", "2024-01-09 Tue 09:30:00"]),
        # lists in seconds and hours
        ("5,10 0 8,20 * * *", "2024-01-01T08:00:07", ["2024-01-01 Mon 08:00:10", "2024-01-01 Mon 20:00:05"]),
        # range with a step: minutes 0,20,40 between hours 9 and 17
        (
            "0 0-59/20 9-17 * * *",
            "2024-01-01T17:30:00",
            ["2024-01-01 Mon 17:40:00", "2024-01-02 Tue 09:00:00"],
        ),
        # a start with a step runs to the end of the range: 5/20 = 5, 25, 45
        ("5/20 * * * * *", "2024-01-01T00:00:06", ["2024-01-01 Mon 00:00:25", "2024-01-01 Mon 00:00:45"]),
        # month names and the last day of February in a leap year
        ("0 0 12 29 Feb *", "2024-03-01T00:00:00", ["2028-02-29 Tue 12:00:00", "2032-02-29 Sun 12:00:00"]),
        # day of month AND day of week (NCrontab needs both): Friday the 13th
        ("0 0 0 13 * FRI", "2024-01-01T00:00:00", ["2024-09-13 Fri 00:00:00", "2024-12-13 Fri 00:00:00"]),
        # 7 is Sunday too; full day names are accepted
        ("0 0 6 * * 7", "2024-01-01T00:00:00", ["2024-01-07 Sun 06:00:00", "2024-01-14 Sun 06:00:00"]),
        ("0 0 6 * * sunday", "2024-01-01T00:00:00", ["2024-01-07 Sun 06:00:00", "2024-01-14 Sun 06:00:00"]),
        # year rollover
        ("0 0 0 1 Jan *", "2024-06-01T00:00:00", ["2025-01-01 Wed 00:00:00", "2026-01-01 Thu 00:00:00"]),
        # five fields: classic cron, seconds taken as 0
        ("*/30 * * * *", "2024-01-01T00:10:00", ["2024-01-01 Mon 00:30:00", "2024-01-01 Mon 01:00:00"]),
    ],
)
def test_next_occurrences(expression: str, start: str, expected: list[str]) -> None:
    assert occurrences(expression, start, len(expected)) == expected


def test_next_after_is_strictly_later_and_drops_microseconds() -> None:
    schedule = parse_schedule("* * * * * *")
    assert schedule.next_after(at("2024-01-01T00:00:00.500000")) == at("2024-01-01T00:00:01")
    assert schedule.next_after(at("2024-01-01T00:00:00")) == at("2024-01-01T00:00:01")


def test_matches_checks_every_field() -> None:
    schedule = parse_schedule("0 30 9 * * Mon-Fri")
    assert isinstance(schedule, CronSchedule)
    assert schedule.matches(at("2024-01-08T09:30:00"))
    assert not schedule.matches(at("2024-01-07T09:30:00"))  # Sunday
    assert not schedule.matches(at("2024-01-08T09:30:01"))


def test_timespan_schedules_are_intervals() -> None:
    schedule = parse_schedule("00:05:00")
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.next_after(at("2024-01-01T00:00:07")) == at("2024-01-01T00:05:07")
    assert parse_schedule("1.02:00:00").next_after(at("2024-01-01T00:00:00")) == at("2024-01-02T02:00:00")
    assert parse_schedule("00:00:30").interval == timedelta(seconds=30)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "has 4 fields"),
        ("60 * * * * *", "second 60 is out of range 0-59"),
        ("0 0 24 * * *", "hour 24 is out of range"),
        ("0 0 0 0 * *", "day 0 is out of range 1-31"),
        ("0 0 0 * 13 *", "month 13 is out of range"),
        ("0 0 0 * Foo *", "'Foo' is not a valid month"),
        ("0 0 0 * * Mon-", "'' is not a valid day-of-week"),
        ("*/0 * * * * *", "bad step '/0'"),
        ("0 30-10 * * * *", "runs backwards"),
        ("0 1,,2 * * * *", "empty list item"),
        ("00:00:00", "must be positive"),
    ],
)
def test_invalid_schedules_name_the_problem(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(")):
        parse_schedule(expression)


def test_a_schedule_that_never_occurs_is_an_error() -> None:
    with pytest.raises(ScheduleError, match="never occurs"):
        parse_schedule("0 0 0 31 Feb *").next_after(at("2024-01-01T00:00:00"))
