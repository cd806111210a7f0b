import random
import secrets
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.module_loading import import_string
from faker import Faker

from calls.demo import seed_calls_demo
from das.models import Mandate
from das.services import governance_load
from meetings.demo import seed_meetings_demo
from members.demo import demo_login, seed_organisations
from members.models import Organisation, Person
from projects.demo import attach_demo_proposals_to_calls, give_demo_contact_projects, seed_projects

DEMO_LOGINS = {
    "staff": "staff@medicen.example",
    "contact": "contact@medicen.example",
    "kol": "kol@medicen.example",
}


class Command(BaseCommand):
    help = "Create deterministic synthetic members and projects, and the three demo logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--members", type=int, default=440, help="organisations to create (default 440)")
        parser.add_argument("--projects", type=int, default=335, help="projects to create (default 335)")
        parser.add_argument("--seed", type=int, default=2019, help="random seed: same seed, same data")
        parser.add_argument(
            "--if-empty", action="store_true", help="create data only if there is no organisation yet (logins always)"
        )

    def handle(self, *args, members: int, projects: int, seed: int, if_empty: bool, **options) -> None:
        if members < 1 or projects < 0:
            raise CommandError("--members must be at least 1 and --projects at least 0.")
        governance_load()
        if if_empty and Organisation.objects.exists():
            self.stdout.write("The database already has organisations: no demo data added.")
        else:
            started = time.perf_counter()
            # Reproducible demo data, not a secret.
            rng = random.Random(seed)  # nosec B311
            fake = Faker("fr_FR")
            fake.seed_instance(seed)
            with transaction.atomic():
                organisation_ids = seed_organisations(rng=rng, fake=fake, count=members)
                seed_projects(rng=rng, count=projects, organisation_ids=organisation_ids)
                seed_meetings_demo(rng=rng, fake=fake)
                seed_calls_demo()
                attach_demo_proposals_to_calls()
            if connection.vendor == "postgresql":
                # Fresh planner statistics: right after a bulk load they describe empty tables
                # (autovacuum catches up only later), and the directory would sort 70,000 rows per page.
                # VACUUM also sets the visibility map, so the directory's counts are index-only
                # scans from the first visit; it cannot run inside a transaction (tests).
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
            self.stdout.write(
                f"Created {members} organisations and {projects} projects in {time.perf_counter() - started:.1f} s."
            )
        self._logins()

    def _logins(self) -> None:
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        # The cluster's own staff, no member's contact: at 100,000 members a seeded contact is
        # also named Camille Martin, and the staff login took over that member's contact.
        staff_person, _ = Person.objects.get_or_create(
            first_name="Camille",
            last_name="Martin",
            organisation=None,
            defaults={"position": "Chargée de mission", "affiliation": "Medicen"},
        )
        contact_person = (
            Person.objects.filter(organisation__status=Organisation.Status.ACTIVE, organisation__category="startup")
            .order_by("pk")
            .first()
        )
        kol_person = Mandate.objects.current().filter(role=Mandate.Role.PRESIDENT).order_by("area__position").first()
        if contact_person is None or kol_person is None:
            raise CommandError("No active startup contact or no governance to attach the demo logins to.")
        demo_login(email=DEMO_LOGINS["staff"], password=password, person=staff_person, staff=True)
        demo_login(email=DEMO_LOGINS["contact"], password=password, person=contact_person)
        demo_login(email=DEMO_LOGINS["kol"], password=password, person=kol_person.person)
        contact_person.refresh_from_db()
        give_demo_contact_projects(organisation=contact_person.organisation, user=contact_person.user)
        # Later apps' demo data (a committee session and its letters): projects does not import them.
        staff_user = Person.objects.get(pk=staff_person.pk).user
        for path in settings.SEED_DEMO_LATER:
            for line in import_string(path)(by=staff_user, organisation=contact_person.organisation):
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {password})"))
        self.stdout.write(f"  staff           {DEMO_LOGINS['staff']}  (admin at /admin/)")
        self.stdout.write(f"  member contact  {DEMO_LOGINS['contact']}  ({contact_person.organisation})")
        self.stdout.write(f"  KOL             {DEMO_LOGINS['kol']}  ({kol_person.person}, {kol_person.area})")
