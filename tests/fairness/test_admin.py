"""Back office: center admins edit a rule through the service (new version, ledger event);
other staff read the list but cannot change it."""

from __future__ import annotations

import json

from django.test import Client

from ggzy.fairness.models import FairnessRule
from ggzy.ledger.models import Event


def _staff_client(user) -> Client:  # type: ignore[no-untyped-def]
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def _form(rule: FairnessRule, **changes):  # type: ignore[no-untyped-def]
    data = {
        "title": rule.title, "source": rule.source, "source_text": rule.source_text,
        "severity": rule.severity, "active": "on" if rule.active else "",
        "position": rule.position, "patterns_text": "\n".join(rule.patterns),
        "exclude_text": "\n".join(rule.exclude_patterns),
    }  # fmt: skip
    data.update(changes)
    return data


def test_center_admin_edits_a_rule_through_the_service(users, world) -> None:  # type: ignore[no-untyped-def]
    rule = FairnessRule.objects.get(code="F12")
    client = _staff_client(users["center_admin"])
    url = f"/admin/fairness/fairnessrule/{rule.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, _form(rule, severity="blocking"))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.severity, rule.version) == ("blocking", 2)
    [event] = Event.objects.filter(event_type="fairness.rule_saved")
    assert json.loads(event.payload)["severity"] == "blocking"


def test_a_bad_pattern_is_shown_and_nothing_changes(users, world) -> None:  # type: ignore[no-untyped-def]
    rule = FairnessRule.objects.get(code="F12")
    client = _staff_client(users["center_admin"])
    response = client.post(
        f"/admin/fairness/fairnessrule/{rule.pk}/change/", _form(rule, patterns_text="(")
    )
    assert response.status_code == 200 and "bad_pattern" in response.content.decode()
    rule.refresh_from_db()
    assert rule.version == 1 and not Event.objects.filter(event_type="fairness.rule_saved")


def test_intake_reads_but_cannot_change_rules(users, world) -> None:  # type: ignore[no-untyped-def]
    rule = FairnessRule.objects.get(code="F12")
    client = _staff_client(users["center_intake"])
    assert client.get("/admin/fairness/fairnessrule/").status_code == 200
    client.post(f"/admin/fairness/fairnessrule/{rule.pk}/change/", _form(rule, severity="blocking"))
    rule.refresh_from_db()
    assert (rule.severity, rule.version) == ("warning", 1)
