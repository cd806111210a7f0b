"""When reminders are due: offsets are applied on the Paris wall clock for whole days."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MINUTES_PER_DAY = 24 * 60


def reminder_moment(starts_at: datetime.datetime, offset_minutes: int) -> datetime.datetime:
    """The moment a reminder `offset_minutes` before `starts_at` is due.

    Whole days are counted on the Paris calendar, so "1 day before" a 10:00 meeting is
    10:00 the day before even across a daylight-saving change (23 or 25 hours earlier);
    the remainder (hours, minutes) is elapsed time.
    """
    days, rest = divmod(offset_minutes, MINUTES_PER_DAY)
    wall = starts_at.astimezone(PARIS).replace(tzinfo=None) - datetime.timedelta(days=days)
    # fold=0: a wall time in the spring gap is read with the winter offset (an hour later
    # in summer time), one in the autumn overlap is its first occurrence.
    moment = wall.replace(tzinfo=PARIS).astimezone(datetime.UTC)
    return moment - datetime.timedelta(minutes=rest)


def describe_offset(offset_minutes: int) -> str:
    """Short form used in forms: 7d, 1d, 2h, 90m."""
    if offset_minutes % MINUTES_PER_DAY == 0:
        return f"{offset_minutes // MINUTES_PER_DAY}d"
    if offset_minutes % 60 == 0:
        return f"{offset_minutes // 60}h"
    return f"{offset_minutes}m"


def parse_offsets(text: str) -> list[int]:
    """Parse "7d, 1d, 2h" into minutes; raises ValueError on anything else."""
    units = {"d": MINUTES_PER_DAY, "j": MINUTES_PER_DAY, "h": 60, "m": 1}
    offsets = []
    for raw in text.replace(";", ",").split(","):
        token = raw.strip().lower().replace(" ", "")
        if not token:
            continue
        number, unit = token[:-1], token[-1]
        if unit not in units or not number.isdigit():
            raise ValueError(token)
        offsets.append(int(number) * units[unit])
    return sorted(offsets, reverse=True)
