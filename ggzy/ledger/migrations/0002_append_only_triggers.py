from django.db import migrations


def install_triggers(apps, schema_editor):
    from ggzy.ledger import triggers

    triggers.install(schema_editor)


def create_singletons(apps, schema_editor):
    apps.get_model("ledger", "LedgerHead").objects.get_or_create(pk=1)
    apps.get_model("ledger", "MerkleState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(create_singletons, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, migrations.RunPython.noop),
    ]
