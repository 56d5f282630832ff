"""Ratings tied to a real evaluation session (``Rating.session``) and to the suspension they
caused under the rating policy (``Rating.suspension``). Existing ratings keep their
``session_ref``; those naming a session's public id are linked to it, the others stay unlinked
(``session`` null) — nothing is dropped."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def link_sessions(apps, schema_editor):  # type: ignore[no-untyped-def]
    Rating = apps.get_model("experts", "Rating")
    EvaluationSession = apps.get_model("evaluation", "EvaluationSession")
    Rating.objects.filter(session__isnull=True).update(
        session_id=Subquery(
            EvaluationSession.objects.filter(public_id=OuterRef("session_ref")).values("pk")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
        ("experts", "0002_draw"),
    ]

    operations = [
        migrations.AddField(
            model_name="rating",
            name="session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="evaluation.evaluationsession",
                verbose_name="评标会",
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="suspension",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="causes",
                to="experts.expertstatuschange",
            ),
        ),
        migrations.RunPython(link_sessions, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="rating",
            constraint=models.UniqueConstraint(
                fields=("expert", "session", "rater_kind"), name="uniq_rating_per_session_fk"
            ),
        ),
    ]
