"""manage.py deliver_webhooks: the webhook worker (README "Webhooks"). Run one or more beside
the server; each claims deliveries with a lease, so they share the work."""

import signal

from django.core.management.base import BaseCommand

from webhooks.delivery import deliver_due, listen_forever


class Command(BaseCommand):
    help = "Push due webhook deliveries until stopped (--once: what is due now, then exit)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
        parser.add_argument(
            "--threads", type=int, default=8, help="pushes in flight at once (default 8)"
        )
        parser.add_argument(
            "--batch", type=int, default=50, help="deliveries claimed at a time (default 50)"
        )

    def handle(self, *args, once: bool, threads: int, batch: int, **options):
        if once:
            made = deliver_due(batch=batch, threads=threads)
            self.stdout.write(f"{made} push attempts")
            return
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        # Finish the pushes in flight and record them, rather than dying between push and record.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def ready():
            self.stdout.write("Delivering webhooks; stop with Ctrl-C")
            self.stdout.flush()

        listen_forever(
            batch=batch, threads=threads, should_stop=lambda: bool(stopping), ready=ready
        )
