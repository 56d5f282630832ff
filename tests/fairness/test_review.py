"""Reviews, reasons and the publication guard, through the services."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ggzy.core import clock
from ggzy.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from ggzy.fairness import services
from ggzy.fairness.models import FairnessRule, Finding, Review
from ggzy.ledger.models import Event
from ggzy.tendering import services as tendering
from ggzy.tendering.states import ProjectStatus
from tests.fairness.conftest import BAD_CLAUSE, GOOD_TEXT, upload
from tests.fairness.support import make_docx, make_pdf


def _events(project, event_type):  # type: ignore[no-untyped-def]
    return list(Event.objects.filter(subject=f"project:{project.public_id}", event_type=event_type))


def _accept(users, tenderer, project):  # type: ignore[no-untyped-def]
    tendering.submit_project(actor=tenderer, project=project)
    return tendering.accept_project(actor=users["center_intake"], project=project)


def _publish(tenderer, project):  # type: ignore[no-untyped-def]
    now = clock.now()
    return tendering.publish_project(
        actor=tenderer, project=project, announcement="招标公告正文",
        documents_from=now, documents_until=now + timedelta(days=6),
        bid_deadline=now + timedelta(days=25),
    )  # fmt: skip


def test_install_default_rules_is_idempotent(world) -> None:  # type: ignore[no-untyped-def]
    count = FairnessRule.objects.count()
    assert count >= 15
    assert services.install_default_rules(actor="system:test") == 0
    assert FairnessRule.objects.count() == count
    assert Event.objects.filter(event_type="fairness.rules_installed").count() == 1


def test_review_quotes_the_clause_and_the_rule(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    review = services.review_project(actor=users["center_intake"], project=project)
    [finding] = review.findings.all()
    assert finding.rule.code == "F01"
    assert finding.clause == BAD_CLAUSE
    assert finding.severity == "blocking" and finding.resolution == "open"
    assert finding.document_name == "招标文件.docx"
    assert bad_document.text[finding.position :].startswith("投标人须在本市")
    assert review.documents == [{"document": bad_document.public_id, "name": "招标文件.docx",
                                 "kind": "tender", "sha256": bad_document.sha256}]  # fmt: skip
    [event] = _events(project, "fairness.reviewed")
    assert json.loads(event.payload)["findings"] == 1
    assert json.loads(event.payload)["blocking_open"] == 1


def test_the_tenderer_may_review_its_own_project(tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    assert services.review_project(actor=tenderer, project=project).findings.count() == 1


@pytest.mark.parametrize("role", ["bidder", "center_admin", "regulator", "tenderer"])
def test_others_may_not_run_a_review(users, bad_document, project, role) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.review_project(actor=users[role], project=project)
    assert not Review.objects.exists() and not _events(project, "fairness.reviewed")


def test_anonymous_may_not_run_a_review(bad_document, project) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        services.review_project(actor=AnonymousUser(), project=project)


def test_blocking_finding_stops_publication_until_a_reason_is_recorded(
    users, tenderer, bad_document, project
) -> None:  # type: ignore[no-untyped-def]
    project = _accept(users, tenderer, project)
    with pytest.raises(Conflict) as caught:
        _publish(tenderer, project)
    assert caught.value.code == "fair_competition_blocked"
    assert caught.value.message.startswith("公平竞争审查")
    [item] = caught.value.detail["findings"]
    assert item["rule"] == "F01" and item["clause"] == BAD_CLAUSE
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACCEPTED
    kept = services.latest_review(project)  # the refused publication left its report behind
    assert kept is not None and kept.findings.get().clause == BAD_CLAUSE

    review = services.review_project(actor=users["center_intake"], project=project)
    finding = review.findings.get()
    services.record_reason(actor=users["center_intake"], finding=finding,
                           reason="本项目为驻场运维服务，须就近设立服务机构。")  # fmt: skip
    [event] = _events(project, "fairness.reason_recorded")
    assert json.loads(event.payload)["rule"] == "F01"
    published = _publish(tenderer, project)
    assert published.status == ProjectStatus.PUBLISHED
    assert Review.objects.filter(project=project).count() == 2  # the last one was current


def test_a_clean_document_publishes_after_a_system_review(users, tenderer, project) -> None:  # type: ignore[no-untyped-def]
    upload(tenderer, project, make_pdf(GOOD_TEXT), name="招标文件.pdf")
    project = _accept(users, tenderer, project)
    assert _publish(tenderer, project).status == ProjectStatus.PUBLISHED
    review = Review.objects.get(project=project)
    assert review.created_by == services.SYSTEM_REVIEWER and not review.findings.exists()


def test_warnings_do_not_block(users, tenderer, project) -> None:  # type: ignore[no-untyped-def]
    upload(tenderer, project, make_docx(["投标人须提供生产厂家授权书。"]))
    project = _accept(users, tenderer, project)
    assert _publish(tenderer, project).status == ProjectStatus.PUBLISHED
    assert Finding.objects.get().severity == "warning"


def test_a_changed_document_gets_a_new_review(users, tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    first = services.review_project(actor=users["center_intake"], project=project)
    assert services.is_current(first, project)
    tendering.remove_document(actor=tenderer, document=bad_document)
    upload(tenderer, project, make_docx(GOOD_TEXT))
    assert not services.is_current(first, project)
    project = _accept(users, tenderer, project)
    assert _publish(tenderer, project).status == ProjectStatus.PUBLISHED
    latest = services.latest_review(project)
    assert latest is not None and latest.pk != first.pk and latest.supersedes_id == first.pk
    assert not latest.findings.exists()


def test_a_reason_is_kept_for_an_unchanged_clause(users, tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    first = services.review_project(actor=users["center_intake"], project=project)
    services.record_reason(
        actor=users["center_intake"], finding=first.findings.get(), reason="理由"
    )
    upload(tenderer, project, make_docx(["投标保证金为投标报价的5%。"]), name="补充.docx")
    second = services.review_project(actor=users["center_intake"], project=project)
    got = {f.rule.code: f.resolution for f in second.findings.all()}
    assert got == {"F01": "reason_recorded", "F17": "open"}
    assert second.findings.get(rule__code="F01").reason == "理由"


def test_a_reason_on_a_superseded_review_is_refused(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    first = services.review_project(actor=users["center_intake"], project=project)
    services.review_project(actor=users["center_intake"], project=project)
    with pytest.raises(Conflict) as caught:
        services.record_reason(actor=users["center_intake"], finding=first.findings.get(),
                               reason="理由")  # fmt: skip
    assert caught.value.code == "finding_superseded"


def test_a_reason_is_recorded_once(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    review = services.review_project(actor=users["center_intake"], project=project)
    finding = review.findings.get()
    services.record_reason(actor=users["center_intake"], finding=finding, reason="理由")
    with pytest.raises(Conflict) as caught:
        services.record_reason(actor=users["center_intake"], finding=finding, reason="再次")
    assert caught.value.code == "already_resolved"


@pytest.mark.parametrize("reason", ["", "   ", "甲" * 2001, "含\x00空字符"])
def test_bad_reasons_are_refused(users, bad_document, project, reason) -> None:  # type: ignore[no-untyped-def]
    finding = services.review_project(actor=users["center_intake"], project=project).findings.get()
    with pytest.raises(ValidationFailed):
        services.record_reason(actor=users["center_intake"], finding=finding, reason=reason)
    finding.refresh_from_db()
    assert finding.resolution == "open" and not _events(project, "fairness.reason_recorded")


@pytest.mark.parametrize("role", ["tenderer", "center_admin", "regulator"])
def test_only_intake_records_reasons(users, tenderer, bad_document, project, role) -> None:  # type: ignore[no-untyped-def]
    finding = services.review_project(actor=users["center_intake"], project=project).findings.get()
    for actor in (users[role], tenderer):
        with pytest.raises(PermissionDenied):
            services.record_reason(actor=actor, finding=finding, reason="理由")
    assert not _events(project, "fairness.reason_recorded")


def test_a_corrupt_upload_is_refused_and_stores_nothing(tenderer, project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        upload(tenderer, project, b"PK\x03\x04broken", name="坏文件.docx")
    assert caught.value.code == "unreadable_document"
    assert not project.documents.exists()


def test_rule_edits_move_the_version_and_are_ledger_events(users, world) -> None:  # type: ignore[no-untyped-def]
    rule = FairnessRule.objects.get(code="F09")
    data = services.RuleData(code="F09", title=rule.title, patterns=rule.patterns,
                             source=rule.source, severity="warning",
                             exclude_patterns=rule.exclude_patterns, source_text=rule.source_text,
                             position=rule.position)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.save_rule(actor=users["center_intake"], data=data)
    saved = services.save_rule(actor=users["center_admin"], data=data)
    assert (saved.version, saved.severity) == (2, "warning")
    assert services.save_rule(actor=users["center_admin"], data=data).version == 2  # no change
    [event] = Event.objects.filter(event_type="fairness.rule_saved")
    assert event.subject == "fairness-rule:F09" and json.loads(event.payload)["version"] == 2
    data.patterns = ["("]
    with pytest.raises(ValidationFailed) as caught:
        services.save_rule(actor=users["center_admin"], data=data)
    assert caught.value.code == "bad_pattern"


def test_a_rule_change_makes_the_review_stale(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    review = services.review_project(actor=users["center_intake"], project=project)
    assert services.is_current(review, project)
    FairnessRule.objects.filter(code="F01").update(active=False)
    assert not services.is_current(review, project)
