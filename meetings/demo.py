"""Deterministic demo data of the meetings app: topics, votes and three meetings (used by seed_demo)."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone
from django.utils.text import slugify
from faker import Faker

from das.models import Mandate, StrategicArea
from meetings import engine, services
from meetings.models import Invitation, Meeting, Topic
from meetings.schedule import PARIS
from members.models import Person
from outbox.models import Message

# Topics named in the announcement of 10 October 2019, then a few plausible others: what
# French users see, so in French.
ANNOUNCED_TOPICS = [
    (
        "Nouvelles façons de réinventer le bloc opératoire",
        "Robotique, imagerie peropératoire et données au service du chirurgien et du patient.",
        ["techno-therapies", "imaging", "digital-health"],
    ),
    (
        "Les défis de la mise en œuvre de la biologie délocalisée (point-of-care)",
        "Tests au lit du patient\u202f: qualité, connectivité et place dans le parcours de soins.",
        ["biological-diagnostics", "digital-health"],
    ),
]
OTHER_TOPICS = [
    (
        "Lecture des images médicales assistée par l\u2019IA en pratique courante",
        "Validation clinique, intégration au PACS et responsabilité du radiologue.",
        ["imaging", "digital-health"],
    ),
    (
        "Production de thérapies cellulaires et géniques au plus près du patient",
        "Unités de production hospitalières, coûts et réglementation des MTI.",
        ["biotherapies-molecules"],
    ),
    (
        "Télésurveillance des dispositifs médicaux implantés",
        "Suivi à distance des implants cardiaques et orthopédiques, remboursement et cybersécurité.",
        ["techno-therapies", "digital-health"],
    ),
    (
        "Biopsie liquide pour le dépistage précoce des cancers",
        "ADN tumoral circulant\u202f: sensibilité, coût et organisation des laboratoires.",
        ["biological-diagnostics"],
    ),
    (
        "Partage sécurisé des données hospitalières pour la recherche",
        "Entrepôts de données de santé, consentement et accès des partenaires industriels.",
        ["digital-health"],
    ),
]


def _give_kols_demo_addresses() -> None:
    """The published governance has no e-mail addresses; demo invitations need some."""
    holders = Person.objects.filter(pk__in=Mandate.objects.current().values("person_id"), email="")
    for person in holders:
        person.email = f"{slugify(person.first_name)}.{slugify(person.last_name)}@kol.medicen.example"
        person.save(update_fields=["email"])


def seed_meetings_demo(*, rng: random.Random, fake: Faker) -> None:
    """Topics with votes, a past KOL committee with minutes and selected topics, a coming
    one whose invitations go out (to var/mail/ under `make run`), and a board meeting still
    in preparation."""
    if Meeting.objects.exists():
        return
    _give_kols_demo_addresses()
    areas = {area.code: area for area in StrategicArea.objects.all()}
    kols = list(Person.objects.filter(pk__in=Mandate.objects.current().values("person_id")))
    topics = []
    for title, description, codes in ANNOUNCED_TOPICS + OTHER_TOPICS:
        author = rng.choice(kols) if kols else None
        topic = services.topic_propose(
            by_person=author, title=title, description=description, areas=[areas[c] for c in codes if c in areas]
        )
        for voter in rng.sample(kols, k=min(len(kols), rng.randint(2, 8))):
            services.topic_vote(topic=topic, person=voter)
        topics.append(topic)

    # The committee that followed the announcement.
    start = datetime.datetime(2019, 12, 12, 14, 0, tzinfo=PARIS)
    past = services.meeting_create(
        title="Comité des KOL — sélection des thématiques d\u2019innovation",
        committee=Meeting.Committee.KOL_COMMITTEE,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        place="Medicen Paris Region, 75013 Paris",
        agenda="Tour de table des DAS\u202f; vote sur les thématiques proposées.",
        now=start - datetime.timedelta(days=30),
    )
    # History: those e-mails went out at the time.
    Message.objects.filter(pk__in=past.deliveries.exclude(message=None).values("message_id")).update(
        status=Message.Status.SENT, attempts=1, sent_at=start - datetime.timedelta(days=30)
    )
    for delivery in past.deliveries.waiting().select_related("invitation"):
        delivery.message = Message.objects.create(
            key=engine.message_key(delivery),
            kind=f"meeting.{delivery.kind}",
            to=[delivery.email],
            status=Message.Status.SENT,
            attempts=1,
            next_attempt_at=delivery.due_at,
            sent_at=delivery.due_at,
        )
        delivery.save(update_fields=["message"])
    for topic in topics[:4]:
        services.agenda_add_topic(meeting=past, topic=topic)
    invitations = list(past.invitations.all())
    for invitation in invitations:
        invitation.response = rng.choice([Invitation.Response.ACCEPTED] * 4 + [Invitation.Response.DECLINED])
        invitation.responded_at = start - datetime.timedelta(days=rng.randint(2, 20))
        invitation.save(update_fields=["response", "responded_at"])
    services.meeting_record_outcome(
        meeting=past,
        minutes=(
            "Les présidents et vice-présidents des cinq DAS ont présenté les besoins de leurs domaines.\n"
            "Le comité retient deux thématiques pour 2020\u202f: les nouvelles façons de réinventer le bloc "
            "opératoire, et les défis de la mise en œuvre de la biologie délocalisée (point-of-care)."
        ),
        attended_invitation_ids=[i.pk for i in invitations if i.response == Invitation.Response.ACCEPTED],
        selected_topic_ids=[topics[0].pk, topics[1].pk],
        now=start + datetime.timedelta(hours=3),
    )

    # The next one, three weeks from today at 14:00 Paris time.
    day = timezone.localdate() + datetime.timedelta(days=21)
    coming_start = datetime.datetime(day.year, day.month, day.day, 14, 0, tzinfo=PARIS)
    # Prepared first (agenda and topics), then its invitations sent, as staff do it.
    coming = services.meeting_create(
        title="Comité des KOL — point d\u2019étape des thématiques",
        committee=Meeting.Committee.KOL_COMMITTEE,
        starts_at=coming_start,
        ends_at=coming_start + datetime.timedelta(hours=2),
        place="Medicen Paris Region, 75013 Paris",
        video_url="https://visio.medicen.example/kol-committee",
        agenda="Avancement des projets issus des thématiques retenues\u202f; nouvelles propositions.",
        draft=True,
    )
    for topic in topics[4:6]:
        services.agenda_add_topic(meeting=coming, topic=topic)
    services.meeting_send_invitations(meeting=coming)

    # A board meeting staff are still preparing: nobody has been e-mailed.
    if "imaging" in areas:
        board_day = day + datetime.timedelta(days=14)
        board_start = datetime.datetime(board_day.year, board_day.month, board_day.day, 10, 0, tzinfo=PARIS)
        board = services.meeting_create(
            title="Bureau du DAS Imagerie — feuille de route",
            committee=Meeting.Committee.DAS_BOARD,
            area=areas["imaging"],
            starts_at=board_start,
            ends_at=board_start + datetime.timedelta(hours=1, minutes=30),
            video_url="https://visio.medicen.example/bureau-imagerie",
            agenda="Projets à labelliser\u202f; appels à projets du semestre.",
            draft=True,
        )
        services.agenda_add_topic(meeting=board, topic=topics[6])
    Topic.objects.filter(pk__in=[t.pk for t in topics[2:4]]).update(status=Topic.Status.SET_ASIDE)
