"""The database refuses UPDATE and DELETE on the audit trail (audit.guard)."""
from django.db import migrations


def install(apps, schema_editor):
    from audit.guard import guard_install

    guard_install(schema_editor.connection)


def remove(apps, schema_editor):
    from audit.guard import guard_remove

    guard_remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_chain"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
