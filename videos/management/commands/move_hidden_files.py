from django.core.management.base import BaseCommand
from django.db.models import Q

from config.storage import HIDDEN_PREFIX as HIDDEN
from videos.models import Video
from videos.services import video_files_settle


class Command(BaseCommand):
    help = (
        "Move the files of hidden entries out of the public prefixes (and of shown entries back): "
        "once after upgrading, for entries hidden before hiding moved files, or after a storage "
        "error interrupted a hide."
    )

    def handle(self, *args, **options):
        out_of_place = (
            Q(hidden=True) & (~Q(converted="") & ~Q(converted__startswith=HIDDEN))
            | Q(hidden=True) & (~Q(poster="") & ~Q(poster__startswith=HIDDEN))
            | Q(hidden=True) & (~Q(assets="") & ~Q(assets__startswith=HIDDEN))
            | Q(hidden=False)
            & (
                Q(converted__startswith=HIDDEN)
                | Q(poster__startswith=HIDDEN)
                | Q(assets__startswith=HIDDEN)
            )
        )
        moved = 0
        for video_id in Video.objects.filter(out_of_place).values_list("id", flat=True).iterator():
            moved += video_files_settle(video_id=video_id)
        self.stdout.write(f"moved: {moved}")
