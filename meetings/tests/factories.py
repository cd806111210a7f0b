"""Makers of the meetings tests: many people, a meeting built through the services, one scan."""

from __future__ import annotations

import datetime

from meetings import engine, services
from meetings.models import Meeting
from members.models import Person
from outbox import services as outbox


def make_people(count: int, *, prefix: str = "kol") -> list[Person]:
    """Many people quickly (bulk insert), each with their own address."""
    Person.objects.bulk_create(
        [
            Person(first_name=f"Prénom{i}", last_name=f"Nom{i:05d}", email=f"{prefix}{i}@example.org")
            for i in range(count)
        ],
        batch_size=1000,
    )
    return list(Person.objects.filter(email__startswith=prefix, email__endswith="@example.org").order_by("pk"))


def make_meeting(*, starts_at: datetime.datetime, now: datetime.datetime | None = None, people=(), **kwargs) -> Meeting:
    """A KOL committee meeting created at `now` (default: real now), inviting `people`."""
    fields = {
        "title": "Comité des KOL",
        "committee": Meeting.Committee.KOL_COMMITTEE,
        "ends_at": starts_at + datetime.timedelta(hours=2),
        "place": "Medicen, Paris",
    }
    fields.update(kwargs)
    meeting = services.meeting_create(starts_at=starts_at, now=now, invite_default=False, **fields)
    if people:
        services.invitations_add(meeting=meeting, people=people, now=now)
    return meeting


def run_scan(now: datetime.datetime):
    """The meetings scan then the outbox's at `now`, sending in this process (what `send_due_reminders` does)."""
    result = engine.scan(now=now)
    outbox.scan(now=now, send=outbox.send_synchronously(now=now))
    return result
