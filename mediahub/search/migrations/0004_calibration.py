from django.db import migrations, models
import django.db.models.deletion
import pgvector.django


class Migration(migrations.Migration):
    dependencies = [("search", "0003_half_precision_hnsw")]
    operations = [
        migrations.CreateModel(
            name="ModelCalibration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("match_floor", models.FloatField()),
                ("spread", models.FloatField()),
                ("feedback_radius", models.FloatField()),
                ("tag_floor", models.FloatField()),
                ("shot_continuity", models.FloatField()),
                ("frames", models.PositiveIntegerField(help_text="Frames of the library the figures were measured on.")),
                ("library_frames", models.PositiveIntegerField(help_text="Frames the library held for this model at the time.")),
                ("measured_at", models.DateTimeField()),
                ("details", models.JSONField(default=dict, help_text="The percentiles behind each figure.")),
                ("model", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="calibration",
                                               to="search.embeddingmodel")),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="PromptVector",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("text", models.TextField()),
                ("vector", pgvector.django.VectorField()),
                ("model", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="prompt_vectors",
                                            to="search.embeddingmodel")),
            ],
            options={"constraints": [models.UniqueConstraint(fields=("model", "text"), name="promptvector_unique_model_text")]},
        ),
    ]
