from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assets', '0004_title_trigram_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='asset',
            name='proxy',
            field=models.CharField(blank=True, help_text="Storage name of the browser-playable rendition, when the original isn't one.", max_length=300, null=True),
        ),
    ]
