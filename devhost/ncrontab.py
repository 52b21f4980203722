"""Six-field NCRONTAB schedules (`{second} {minute} {hour} {day} {month} {day-of-week}`) for timer triggers.

Also accepts the host's other schedule forms: five-field CRON (seconds taken as 0) and a TimeSpan interval
(`hh:mm:ss` or `d.hh:mm:ss`). Day of month and day of week combine as NCrontab does: both must match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_DAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$")
# No schedule repeats beyond this horizon without matching (Feb 29 on a given weekday recurs within 28 years).
_SEARCH_YEARS = 30


class ScheduleError(ValueError):
    """A schedule expression that cannot be parsed."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_WEEKDAY = _Field("day-of-week", 0, 7, _DAYS)  # 7 is Sunday too, as in cron


def _value(text: str, spec: _Field, expression: str) -> int:
    upper = text.upper()
    if spec.names and upper[:3] in spec.names and upper.isalpha():
        return spec.names[upper[:3]]
    if not text.isdigit():
        raise ScheduleError(f"'{text}' is not a valid {spec.name} in schedule '{expression}'")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise ScheduleError(
            f"{spec.name} {number} is out of range {spec.low}-{spec.high} in schedule '{expression}'"
        )
    return number


def _parse_field(text: str, spec: _Field, expression: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ScheduleError(f"empty list item in {spec.name} field of schedule '{expression}'")
        range_text, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(
                    f"bad step '/{step_text}' in {spec.name} field of schedule '{expression}'"
                )
            step = int(step_text)
        if range_text in ("*", "?"):
            low, high = spec.low, spec.high
        elif "-" in range_text:
            first, _, last = range_text.partition("-")
            low, high = _value(first, spec, expression), _value(last, spec, expression)
            if low > high:
                raise ScheduleError(f"range {range_text} runs backwards in schedule '{expression}'")
        else:
            low = _value(range_text, spec, expression)
            # `5/15` means from 5 to the end in steps of 15; `5/1` is just 5 (NCrontab's reading).
            high = spec.high if step > 1 else low
        values.update(range(low, high + 1, step))
    if spec is _WEEKDAY and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed NCRONTAB expression; `next_after` gives the next occurrence strictly after a time."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    def matches(self, when: datetime) -> bool:
        """Whether `when` (to the second) is an occurrence of this schedule."""
        return (
            when.second in self.seconds
            and when.minute in self.minutes
            and when.hour in self.hours
            and self._day_matches(when)
        )

    def _day_matches(self, when: datetime) -> bool:
        return (
            when.month in self.months and when.day in self.days and (when.weekday() + 1) % 7 in self.weekdays
        )

    def next_after(self, when: datetime) -> datetime:
        """The first occurrence strictly after `when` (same timezone as `when`)."""
        candidate = when.replace(microsecond=0) + timedelta(seconds=1)
        limit = candidate.replace(year=candidate.year + _SEARCH_YEARS, month=1, day=1)
        while candidate < limit:
            if not self._day_matches(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if candidate.hour not in self.hours:
                later = [h for h in sorted(self.hours) if h > candidate.hour]
                if not later:
                    candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                else:
                    candidate = candidate.replace(hour=later[0], minute=0, second=0)
                continue
            if candidate.minute not in self.minutes:
                later = [m for m in sorted(self.minutes) if m > candidate.minute]
                if not later:
                    candidate = (candidate + timedelta(hours=1)).replace(minute=0, second=0)
                else:
                    candidate = candidate.replace(minute=later[0], second=0)
                continue
            if candidate.second not in self.seconds:
                later = [s for s in sorted(self.seconds) if s > candidate.second]
                if not later:
                    candidate = (candidate + timedelta(minutes=1)).replace(second=0)
                else:
                    candidate = candidate.replace(second=later[0])
                continue
            return candidate
        raise ScheduleError(f"schedule '{self.expression}' never occurs")


@dataclass(frozen=True)
class IntervalSchedule:
    """A TimeSpan schedule: every `interval`, counted from the previous occurrence."""

    expression: str
    interval: timedelta

    def next_after(self, when: datetime) -> datetime:
        """`when` plus the interval."""
        return when + self.interval


Schedule = CronSchedule | IntervalSchedule


def parse_schedule(expression: str) -> Schedule:
    """Parse a timer trigger schedule: six-field NCRONTAB, five-field CRON, or a TimeSpan such as 00:05:00."""
    text = expression.strip()
    span = _TIMESPAN.match(text)
    if span:
        days, hours, minutes, seconds = (int(g) if g else 0 for g in span.groups())
        interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if interval <= timedelta(0):
            raise ScheduleError(f"interval schedule '{expression}' must be positive")
        return IntervalSchedule(expression, interval)
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ScheduleError(
            f"schedule '{expression}' has {len(fields)} fields; NCRONTAB needs six: "
            "{second} {minute} {hour} {day} {month} {day-of-week}"
        )
    specs = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)
    parsed = [_parse_field(field, spec, expression) for field, spec in zip(fields, specs, strict=True)]
    return CronSchedule(expression, *parsed)
