from django.core.management.base import BaseCommand

from das.services import governance_load


class Command(BaseCommand):
    help = "Load the five DAS and their governance from das/data/governance.toml (idempotent)."

    def handle(self, *args, **options) -> None:
        created = governance_load()
        self.stdout.write(
            self.style.SUCCESS(
                "DAS governance loaded: {areas} areas, {people} people, {mandates} mandates created.".format(**created)
            )
        )
