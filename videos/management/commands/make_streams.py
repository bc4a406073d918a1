from django.core.management.base import BaseCommand

from videos.services import videos_streams_backfill


class Command(BaseCommand):
    help = (
        "Once after upgrading: give the entries converted before streams existed their HLS "
        "stream, storyboard and thumbnails. The workers' sweep sends the jobs, a few at a time."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"pending: {videos_streams_backfill()}")
