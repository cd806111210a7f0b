from django.core.management.base import BaseCommand

from outbox import services


class Command(BaseCommand):
    help = "Send every due e-mail now, in this process (when no worker runs)."

    def handle(self, *args, **options) -> None:
        result = services.scan(send=services.send_synchronously())
        self.stdout.write(
            f"{result.claimed} sent or attempted, {result.released} released, {result.flagged_uncertain} flagged"
        )
