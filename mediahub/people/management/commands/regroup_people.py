from mediahub.core.progress import ProgressCommand
from mediahub.people.services import people_regroup


class Command(ProgressCommand):
    help = "Group every face track of the library into people again, keeping editors' names, merges, splits and rejections."

    def handle(self, *args, **options):
        summary = people_regroup(progress=self.progress)
        self.stdout.write(f"{summary.tracks} face tracks, {summary.people} people: {summary.moved} tracks moved, "
                          f"{summary.created} people new, {summary.removed} people removed.")
