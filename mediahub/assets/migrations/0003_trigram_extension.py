from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("assets", "0002_default_vocabulary")]
    operations = [TrigramExtension()]
