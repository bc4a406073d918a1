from django.core.management.base import BaseCommand

from videos.services import videos_requeue_stale


class Command(BaseCommand):
    help = "Send again the jobs whose worker or message was lost; end the ones that keep dying."

    def handle(self, *args, **options):
        counts = videos_requeue_stale()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
