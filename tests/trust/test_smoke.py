from __future__ import annotations

from ggzy.trust import validation
from tests.trust import pki


def test_entity_certificate_validates_and_binds(frozen_clock, bound, entity, family):
    report = validation.validate(bound and pki.entity_cert(family, entity.uscc).certificate, purpose="sign")
    assert report.kind == "entity"
    assert report.subject_identifier == entity.uscc
    assert bound.entity == entity
