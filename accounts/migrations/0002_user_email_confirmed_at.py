from django.core.management import call_command
from django.db import migrations, models
from django.db.models import F


def confirm_existing_organizers(apps, schema_editor):
    # Accounts made before confirmation existed keep working: their contests stay open.
    User = apps.get_model("accounts", "User")
    User.objects.using(schema_editor.connection.alias).update(email_confirmed_at=F("date_joined"))


def create_cache_table(apps, schema_editor):
    # The rate limits' counters live in the database's cache table unless cache_url is set;
    # making it here keeps "migrate once" the only set-up step.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(confirm_existing_organizers, migrations.RunPython.noop),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
