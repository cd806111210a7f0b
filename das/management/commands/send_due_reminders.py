from django.core.management.base import BaseCommand

from das.meetings import engine


class Command(BaseCommand):
    help = "Run one scan of due meeting e-mails and send them in this process (same code as the periodic task)."

    def handle(self, *args, **options) -> None:
        result = engine.scan(dispatch=engine.send_synchronously())
        self.stdout.write(f"{result.claimed} due e-mails processed, {result.flagged_stuck} flagged as stuck.")
