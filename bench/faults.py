"""Fault injection on real services: `python bench/faults.py [--scenario NAME]` (`make faults`).

One throwaway stack (bench/harness.py: PostgreSQL via initdb, Redis, an SMTP sink, gunicorn,
one celery worker and beat, all on ports of their own) seeded with a few hundred members.
Each scenario owes e-mails — KOL meeting deliveries (meetings.Delivery rows) and proposal
notifications (projects.Notification rows), both sent by the outbox (outbox.Message) — then injects
a fault and waits for the portal to recover by itself, and prints what was owed, delivered, lost and duplicated:

  redis      Redis stopped for 60 s while member contacts submit proposals through the web and
             meeting reminders fall due; submissions must still succeed.
  worker     the worker SIGKILLed in the middle of a batch of reminders, then restarted.
  postgres   PostgreSQL restarted (pg_ctl restart) under concurrent page requests and submissions.
  smtp       the SMTP server answering 451 (then 421) for a while, then recovering.

Owed comes from the database (rows of the scenario, minus those legitimately skipped);
delivered is counted in the SMTP sink's record (Message-ID for deliveries, subject and
recipient for notifications: one e-mail per person told). PASS means lost 0 and duplicated 0.
Recovery intervals are shortened through the settings' own variables (see ENV below).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Stack

# The periodic recovery scans, shortened for the run through the settings' variables.
ENV = {
    "OUTBOX_LEASE_SECONDS": "60",
    "OUTBOX_RETRY_BACKOFF_CAP": "60",  # first retry after ~1 min: the SMTP outage below lasts 60 s
    "CELERY_VISIBILITY_TIMEOUT": "3600",
}
PASSWORD = "faults-password-2026"  # nosec B105 - throwaway accounts of a throwaway database
MEMBERS = 300
CONTACTS = 24  # member contacts with a login, who submit proposals


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


@dataclass
class Result:
    name: str
    owed: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.duplicated == 0

    def line(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        return (
            f"{self.name:<9} owed {self.owed:>4}  delivered {self.delivered:>4}  lost {self.lost:>3}  "
            f"duplicated {self.duplicated:>3}  {verdict}"
        )


class Portal:
    """The stack plus in-process Django on the same database, to create and count rows."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sessions: dict[str, requests.Session] = {}
        self.tag_counter = 0

    # --- set-up ---------------------------------------------------------------------
    def setup_django(self) -> None:
        os.environ.update(self.stack.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medicen_portal.settings")
        import django

        django.setup()

    def create_contacts(self) -> None:
        from members.models import Organisation, User

        companies = (
            Organisation.objects.active()
            .filter(category__in=Organisation.COMPANY_CATEGORIES, people__isnull=False)
            .distinct()
            .order_by("pk")
        )
        self.contacts: list[str] = []
        self.organisation_of: dict[str, Organisation] = {}
        for organisation in companies[:CONTACTS]:
            person = organisation.people.filter(user__isnull=True).order_by("pk").first()
            if person is None:
                continue
            email = f"contact{person.pk}@faults.example"
            user = User.objects.create_user(email=email, password=PASSWORD)
            person.user = user
            person.email = email
            person.save(update_fields=["user", "email"])
            self.contacts.append(email)
            self.organisation_of[email] = organisation
        self.partner_company = companies[CONTACTS + 1]
        self.partner_research = (
            Organisation.objects.active()
            .filter(category__in=Organisation.RESEARCH_CLINICAL_CATEGORIES)
            .order_by("pk")
            .first()
        )
        from das.models import StrategicArea

        self.area = StrategicArea.objects.order_by("pk").first()
        log(f"{len(self.contacts)} member contacts with a login")

    def login(self, email: str) -> requests.Session:
        session = requests.Session()
        page = session.get(f"{self.stack.url}/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = session.post(
            f"{self.stack.url}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD},
            headers={"Referer": f"{self.stack.url}/accounts/login/"},
            timeout=30,
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login of {email} failed: {response.status_code}")
        self.sessions[email] = session
        return session

    # --- actions through the web ------------------------------------------------------------
    def submit_proposal(self, email: str, acronym: str) -> tuple[int, float]:
        """Fill the proposal form and press "Submit"; return (HTTP status, seconds)."""
        session = self.sessions.get(email) or self.login(email)
        organisation = self.organisation_of[email]  # no query here: threads run this while PostgreSQL restarts
        started = time.monotonic()
        page = session.get(f"{self.stack.url}/projects/new/", timeout=60)
        if page.status_code != 200:
            return page.status_code, time.monotonic() - started
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        data = {
            "csrfmiddlewaretoken": token,
            "title": f"Fault run proposal {acronym}",
            "acronym": acronym,
            "summary": "A bedside test.",
            "objectives": "Clinical validation.",
            "primary_area": self.area.pk,
            "kind": "collaborative",
            "trl_start": 3,
            "trl_target": 6,
            "duration_months": 36,
            "total_budget": "2000000",
            "requested_aid": "700000",  # 35 %: within the aid-rate ceilings whatever the lead (a large company: 25 %)
            "target_funder": "bpifrance",
            "target_programme": "i-Nov",
            "target_scope": "",
            "action": "submit",
            "partners-TOTAL_FORMS": "3",
            "partners-INITIAL_FORMS": "0",
            "partners-MIN_NUM_FORMS": "0",
            "partners-MAX_NUM_FORMS": "1000",
        }
        for index, (partner, role, share) in enumerate(
            [(organisation, "lead", 50), (self.partner_company, "partner", 30), (self.partner_research, "partner", 20)]
        ):
            prefix = f"partners-{index}-"
            data |= {
                prefix + "organisation": partner.pk,
                prefix + "role": role,
                prefix + "budget_share": share,
                prefix + "contact_name": "Dr Jeanne Martin",
                prefix + "contact_email": "jeanne.martin@example.org",
            }
        response = session.post(
            f"{self.stack.url}/projects/new/",
            data=data,
            headers={"Referer": f"{self.stack.url}/projects/new/"},
            timeout=60,
            allow_redirects=False,
        )
        elapsed = time.monotonic() - started
        if response.status_code == 302 and "/edit/" in response.headers.get("Location", ""):
            return 409, elapsed  # saved as a draft but refused for submission: the data is wrong
        return response.status_code, elapsed

    # --- rows owed ---------------------------------------------------------------------
    def create_meeting(self, tag: str, *, invitees: int, reminders_in: list[float], starts_in: float = 1800):
        """A KOL meeting inviting `invitees` people whose reminders come due `reminders_in` seconds from now."""
        from django.utils import timezone

        from meetings import services
        from meetings.models import Meeting
        from members.models import Person

        now = timezone.now().replace(microsecond=0)
        # Offsets are whole minutes: start so that start - offset lands at now + reminders_in[i].
        offsets = [int((starts_in - seconds) // 60) for seconds in reminders_in]
        starts_at = now + datetime.timedelta(seconds=starts_in)
        starts_at -= datetime.timedelta(seconds=(starts_in - reminders_in[0]) - offsets[0] * 60)
        meeting = services.meeting_create(
            title=f"KOL committee {tag}",
            committee=Meeting.Committee.KOL_COMMITTEE,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=2),
            place="Medicen, Paris",
            reminder_offsets=offsets,
            invite_default=False,
        )
        people = list(Person.objects.exclude(email="").exclude(email__endswith="@faults.example").order_by("pk"))
        services.invitations_add(meeting=meeting, people=people[:invitees])
        moments = sorted({(starts_at - datetime.timedelta(minutes=o) - now).total_seconds() for o in offsets})
        log(f"meeting {meeting.pk}: {invitees} invitees, reminders due in {', '.join(f'{m:.0f}' for m in moments)} s")
        return meeting

    def count(self, *, meetings=(), acronyms=()) -> tuple[Result, dict]:
        """What is owed (database rows) against what the sink received."""
        from meetings.models import Delivery
        from projects.models import Notification

        deliveries = Delivery.objects.filter(meeting__in=meetings).with_status()
        statuses = collections.Counter(deliveries.values_list("status", flat=True))
        owed_deliveries = {
            pk: mid for pk, mid in deliveries.exclude(status="skipped").values_list("pk", "meeting__uid")
        }
        notifications = Notification.objects.filter(event__project__acronym__in=acronyms)
        n_states = collections.Counter(notifications.values_list("message__status", flat=True))
        owed_notes = {
            (acronym, email)
            for acronym, email in notifications.exclude(message__status="cancelled").values_list(
                "event__project__acronym", "recipient__email"
            )
        }
        seen: collections.Counter = collections.Counter()
        for mail in self.stack.mails():
            found = re.match(r"<das-delivery-(\d+)\.", mail["message_id"])
            if found and int(found.group(1)) in owed_deliveries:
                seen[("d", int(found.group(1)))] += 1
                continue
            found = re.match(r"\[Medicen\] (\S+)\s*:", mail["subject"])
            if found and found.group(1) in acronyms:
                for recipient in mail["to"]:
                    seen[("n", (found.group(1), recipient))] += 1
        owed = {("d", pk) for pk in owed_deliveries} | {("n", key) for key in owed_notes}
        result = Result(name="")
        result.owed = len(owed)
        result.delivered = sum(1 for key in owed if seen[key])
        result.lost = result.owed - result.delivered
        result.duplicated = sum(count - 1 for key, count in seen.items() if count > 1)
        return result, {"deliveries": dict(statuses), "notifications": dict(n_states)}

    def wait_delivered(self, *, timeout: float, **rows) -> tuple[Result, dict]:
        """Wait until every owed e-mail is in the sink, or nothing has moved for a while with no
        row left to send (what is left then is failed, or handed over and stuck in 'sending':
        it will not come). A row in 'sending' that was never handed over is released by a scan
        once the lease is over, so it is still to come."""
        from meetings.models import Delivery
        from projects.models import Notification

        deadline = time.monotonic() + timeout
        last, last_change = None, time.monotonic()
        while True:
            result, states = self.count(**rows)
            if (result.delivered, states) != last:
                last, last_change = (result.delivered, states), time.monotonic()
            pending = states["deliveries"].get("pending", 0) + states["notifications"].get("pending", 0)
            pending += Delivery.objects.filter(
                meeting__in=rows.get("meetings", ()), message__status="sending", message__handed_at__isnull=True
            ).count()
            pending += Notification.objects.filter(
                event__project__acronym__in=rows.get("acronyms", ()),
                message__status="sending",
                message__handed_at__isnull=True,
            ).count()
            settled = not pending and time.monotonic() - last_change > 45
            if result.delivered >= result.owed or settled or time.monotonic() > deadline:
                return result, states
            time.sleep(2)

    def next_tag(self, prefix: str) -> str:
        self.tag_counter += 1
        return f"{prefix}{self.tag_counter:03d}"


# --- scenarios -------------------------------------------------------------------------------


def scenario_redis(portal: Portal) -> Result:
    """Redis stopped for 60 s while members submit proposals and reminders fall due."""
    stack = portal.stack
    meeting = portal.create_meeting("redis", invitees=60, reminders_in=[25, 85])
    acronyms: list[str] = []
    statuses: collections.Counter = collections.Counter()
    pages: collections.Counter = collections.Counter()
    timings: list[float] = []
    time.sleep(10)
    log("stopping Redis for 60 s")
    stack.redis.stop()
    outage_ends = time.monotonic() + 60
    contacts = iter(portal.contacts * 10)
    while time.monotonic() < outage_ends - 5:
        acronym = portal.next_tag("RDS")
        status, elapsed = portal.submit_proposal(next(contacts), acronym)
        statuses[status] += 1
        timings.append(elapsed)
        if status == 302:
            acronyms.append(acronym)
        for path in ("/members/", "/projects/", "/meetings/"):
            session = portal.sessions[portal.contacts[0]]
            pages[(path, session.get(stack.url + path, timeout=60).status_code)] += 1
        time.sleep(1)
    time.sleep(max(0.0, outage_ends - time.monotonic()))
    stack.redis.start()
    log("Redis is back")
    result, states = portal.wait_delivered(timeout=240, meetings=[meeting], acronyms=acronyms)
    result.name = "redis"
    result.notes += [
        f"submissions during the outage: {sum(statuses.values())}, HTTP {dict(statuses)}, "
        f"slowest {max(timings):.1f} s, median {sorted(timings)[len(timings) // 2]:.1f} s",
        f"pages during the outage (path, HTTP): {dict(pages)}",
        f"rows at the end: {states}",
    ]
    if set(statuses) != {302}:
        result.notes.append("MISS: a submission failed during the outage")
    return result


def scenario_worker(portal: Portal) -> Result:
    """A worker SIGKILLed in the middle of a batch of reminders, then restarted."""
    from meetings.models import Delivery

    stack = portal.stack
    meeting = portal.create_meeting("worker", invitees=250, reminders_in=[5])
    worker = stack.processes["worker"]
    # Wait until the batch of invitations is being sent, then kill the worker mid-batch.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sent = Delivery.objects.with_status().filter(meeting=meeting, status="sent").count()
        if sent >= 40:
            break
        time.sleep(0.2)
    sending = Delivery.objects.with_status().filter(meeting=meeting, status="sending").count()
    log(f"SIGKILL to the worker after {sent} sent ({sending} in 'sending')")
    worker.kill()
    time.sleep(3)
    after_kill = collections.Counter(
        Delivery.objects.with_status().filter(meeting=meeting).values_list("status", flat=True)
    )
    worker.start()
    log("worker restarted")
    result, states = portal.wait_delivered(timeout=300, meetings=[meeting])
    result.name = "worker"
    rows = Delivery.objects.filter(meeting=meeting).with_status()
    # Claimed twice: released after the kill (never handed over), or retried after an SMTP error
    # (the sink answers 250 throughout this scenario, so here it is the release).
    claimed_twice = rows.filter(message__attempts__gte=2).count()
    stuck = rows.filter(status="sending").count()
    result.notes += [
        f"rows just after the kill: {dict(after_kill)}",
        f"claimed twice (released by a scan after the kill, then sent): {claimed_twice}",
        f"rows at the end: {states}; left in 'sending' (handed over, flagged for staff after 15 min): {stuck}",
    ]
    return result


def scenario_postgres(portal: Portal) -> Result:
    """PostgreSQL restarted under concurrent page requests and submissions."""
    from projects.models import Project

    stack = portal.stack
    organisation_slugs = list(
        __import__("members.models", fromlist=["Organisation"])
        .Organisation.objects.listed()
        .order_by("pk")
        .values_list("slug", flat=True)[:50]
    )
    project_ids = list(Project.objects.filter(proposer__email=portal.contacts[0]).values_list("pk", flat=True)[:5])
    paths = ["/members/", "/members/?q=sant%C3%A9"] + [f"/members/{slug}/" for slug in organisation_slugs[:10]]
    paths += [f"/projects/{pk}/" for pk in project_ids] + ["/projects/"]
    window = {"start": None, "end": None}
    records: list[tuple[float, str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    acronyms: list[str] = []

    def reader(index: int) -> None:
        # Every reader is the proposer of the proposals read (others get a 404, rightly).
        session = portal.login(portal.contacts[0]) if index else portal.sessions[portal.contacts[0]]
        step = index
        while not stop.is_set():
            path = paths[step % len(paths)]
            step += 1
            try:
                status = session.get(stack.url + path, timeout=30).status_code
            except requests.RequestException:
                status = 0
            with lock:
                records.append((time.monotonic(), path, status))

    def submitter() -> None:
        contacts = iter(portal.contacts[5:] * 10)
        while not stop.is_set():
            acronym = portal.next_tag("PGR")
            try:
                status, _elapsed = portal.submit_proposal(next(contacts), acronym)
            except requests.RequestException:
                status = 0
            with lock:
                records.append((time.monotonic(), "submit", status))
                if status == 302:
                    acronyms.append(acronym)
            time.sleep(0.5)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)] + [threading.Thread(target=submitter)]
    for thread in threads:
        thread.start()
    time.sleep(10)
    log("pg_ctl restart")
    window["start"] = time.monotonic()
    stack.pg.restart()
    window["end"] = time.monotonic()
    log(f"PostgreSQL back after {window['end'] - window['start']:.1f} s")
    time.sleep(20)
    stop.set()
    for thread in threads:
        thread.join()
    from django.db import connection

    connection.close()  # this process's own connection died with the restart
    phases: dict[str, collections.Counter] = {p: collections.Counter() for p in ("before", "during", "after")}
    for moment, _path, status in records:
        phase = "before" if moment < window["start"] else "during" if moment <= window["end"] + 1 else "after"
        phases[phase]["ok" if status in (200, 302) else f"failed {status}"] += 1
    result, states = portal.wait_delivered(timeout=180, acronyms=acronyms)
    result.name = "postgres"
    result.notes += [
        f"restart took {window['end'] - window['start']:.1f} s; requests "
        + "; ".join(f"{phase}: {dict(counter)}" for phase, counter in phases.items()),
        f"notification rows at the end: {states['notifications']}",
    ]
    failed_after = sum(n for key, n in phases["after"].items() if key != "ok")
    if failed_after:
        result.notes.append(f"MISS: {failed_after} requests failed after PostgreSQL was back")
    return result


def scenario_smtp(portal: Portal) -> Result:
    """The SMTP server answering 451 then 421 for 60 s while reminders fall due and proposals are submitted."""
    stack = portal.stack
    stack.smtp_fail("451 4.3.0 Try again later")
    log("SMTP answers 451")
    meeting = portal.create_meeting("smtp", invitees=60, reminders_in=[15])
    acronyms = []
    for email in portal.contacts[:6]:
        acronym = portal.next_tag("SMT")
        if portal.submit_proposal(email, acronym)[0] == 302:
            acronyms.append(acronym)
    time.sleep(25)
    stack.smtp_fail("421 4.3.2 Service shutting down")
    log("SMTP answers 421")
    time.sleep(30)
    stack.smtp_fail(None)
    log("SMTP recovered")
    result, states = portal.wait_delivered(timeout=300, meetings=[meeting], acronyms=acronyms)
    result.name = "smtp"
    result.notes.append(f"rows at the end: {states}")
    return result


SCENARIOS = {"redis": scenario_redis, "worker": scenario_worker, "postgres": scenario_postgres, "smtp": scenario_smtp}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append", help="run only this one (repeatable)")
    args = parser.parse_args()
    names = args.scenario or list(SCENARIOS)
    started = time.monotonic()
    results: list[Result] = []
    with Stack("faults") as stack:
        log("starting PostgreSQL, Redis and the SMTP sink")
        stack.start_services()
        stack.env.update(ENV)
        stack.prepare_portal(members=MEMBERS, projects=30)
        stack.start_web(workers=3)
        stack.start_worker(concurrency=2)
        stack.start_beat()
        portal = Portal(stack)
        portal.setup_django()
        portal.create_contacts()
        for email in portal.contacts:
            portal.login(email)
        log(f"stack ready in {time.monotonic() - started:.0f} s: {stack.url}")
        for name in names:
            log(f"--- scenario {name}")
            scenario_started = time.monotonic()
            result = SCENARIOS[name](portal)
            results.append(result)
            log(f"{result.line()}  ({time.monotonic() - scenario_started:.0f} s)")
            for note in result.notes:
                log(f"    {note}")
    print()
    print(f"Fault runs ({time.monotonic() - started:.0f} s in all; logs under var/faults/logs/)")
    for result in results:
        print("  " + result.line())
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
