from django.core.management.base import BaseCommand

from meetings import engine
from outbox import services as outbox


class Command(BaseCommand):
    help = (
        "Run one scan of due meeting e-mails (skip or enqueue them), then one outbox scan sending in this "
        "process (same code as the periodic tasks)."
    )

    def handle(self, *args, **options) -> None:
        result = engine.scan()
        sent = outbox.scan(send=outbox.send_synchronously())
        self.stdout.write(
            f"{result.enqueued} meeting e-mails enqueued, {result.skipped} skipped; "
            f"outbox: {sent.claimed} sent or tried, {sent.flagged_uncertain} flagged as uncertain."
        )
