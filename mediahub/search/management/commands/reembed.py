from mediahub.assets.services import assets_reembed
from mediahub.core.progress import ProgressCommand
from mediahub.search.selectors import active_clip_spec
from mediahub.search.services import frame_embeddings_prune


class Command(ProgressCommand):
    help = ("Re-embed the library with the configured CLIP model (MEDIAHUB_CLIP_MODEL / _PRETRAINED). "
            "Search uses only the active model's vectors, so run this after changing the model.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--prune", action="store_true", help="Also delete vectors made by other models.")

    def handle(self, *args, prune: bool, **options):
        spec = active_clip_spec()
        count = assets_reembed(progress=self.progress)
        self.stdout.write(f"Queued {count} asset(s) for embedding with {spec.key}.")
        if prune:
            deleted = frame_embeddings_prune(keep_key=spec.key)
            self.stdout.write(f"Deleted {deleted} vector(s) of other models.")
