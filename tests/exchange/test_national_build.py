"""Building the national batches: the records changed since the last batch, in the field
file's shape, canonical bytes signed by the platform's key, refusals with their reasons, nothing
half-written — and nothing that is not public (R42, bids before the opening, candidates before
their publicity, bank accounts, ID numbers)."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from ggzy.award import services as award
from ggzy.award import services_contract
from ggzy.core.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from ggzy.exchange import national, national_fields
from ggzy.exchange.models import Batch, Cursor, ExportedRecord
from ggzy.exchange.national_fields import FieldConfigError
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.models import Event
from ggzy.registry.models import Entity
from tests.api.support import register
from tests.award import world as aw
from tests.award.test_publicity import publish
from tests.conftest import uscc

CLI = "system:cli"
PLATFORM = {"PLATFORM_CODE": "913201000000000PLT", "PUB_SERVICE_PLAT_CODE": "913201000000000PUB",
            "TRADE_PLAT": "JSGGZY00001", "PUB_SERVICE_PLAT": "JSPUBSV0001",
            "PUBLIC_URL": "https://ggzy.nanjing.example"}  # fmt: skip
# What the platform does not collect, made optional as a receiver would agree to (the packaged
# default requires them, as Fujian does), and the codes a receiver gives for its code tables.
RELAXED: dict[str, Any] = {
    "codes": {"industry": {"works": "E01"}, "tender_project_type": {"works": "A01"},
              "project_classify": {"works": "A01"}, "enterprise_property": {"enterprise": "1", "institution": "2",
                                      "government": "3"}},
    "datasets": {
        "500": {"fields": {"PROJECT_CODE": {"max_length": 18}, "APPROVAL_NAME": {"required": False},
                           "CLASS_VER_CODE": {"required": False}}},
        "501": {"fields": {"PROJECT_CODE": {"max_length": 18},
                           **{f: {"required": False} for f in (
                               "IS_TO_LAW", "TENDER_AGENCY_NAME", "TENDER_AGENCY_CODE_TYPE",
                               "TENDER_AGENCY_CODE", "TENDER_AGENCY_ROLE", "SUPERVISE_DEPT_NAME",
                               "APPROVE_DEPT_NAME", "REPORT_DUTY", "TENDER_AGENCY_REGION_CODE",
                               "TENDER_AGENCY_PROPERTY", "TRADE_SYSTEM_NO", "TRADE_SYSTEM_FEE")}}},
        "503": {"fields": {f: {"required": False} for f in (
            "BULLETIN_DUTY", "BULLETIN_DUTY_CODE_TYPE", "SYNDICATED_FLAG", "TENDERER_EMAIL")}},
        "506": {"fields": {"TENDERER_PERSON": {"required": False},
                           "TENDER_AGENCY_PERSON": {"required": False}}},
        "510": {"fields": {"QUALITY": {"required": False},
                           "WIN_CANDIDATE_QUALIFICATION": {"required": False}}},
        "513": {"fields": {f: {"required": False} for f in (
            "BULLETIN_DUTY", "EXAMINER_NAME", "PROJECT_LEAD", "PROJECT_LEAD_ID",
            "TENDER_AGENCY_CODE")}},
    },
}  # fmt: skip
_files = itertools.count()


@pytest.fixture
def configure(settings, tmp_path):  # type: ignore[no-untyped-def]
    """``configure(**override)``: the field file the platform runs with (a new file each time)."""

    def apply(override: dict[str, Any] | None = None, *, platform: bool = True) -> None:
        value = dict(override or {})
        value.setdefault("share_contacts", True)  # as agreed with the receiver (default: off)
        if platform:
            value["platform"] = PLATFORM | value.get("platform", {})
        path = Path(tmp_path) / f"fields-{next(_files)}.json"
        path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        settings.GGZY_EXCHANGE_FIELDS = str(path)

    apply()
    return apply


@pytest.fixture
def entities(db, users, region, frozen_clock):  # type: ignore[no-untyped-def]
    return [register(users["bidder"], 1), register(users["tenderer"], 2, is_bidder=False,
                                                   is_tenderer=True, name="南京市交通建设局")]  # fmt: skip


def contexts(batch: Batch) -> dict[str, dict[str, str]]:
    body = orjson.loads(batch.data)
    return {r["data_key"]: r["context"] for r in body["records"]}


def events(kind: str) -> list[dict[str, Any]]:
    return [
        json.loads(p)
        for p in Event.objects.filter(event_type=kind).values_list("payload", flat=True)
    ]


# --- legal persons: shape, values, signature ----------------------------------------------------


def test_legal_persons_are_exported_in_the_field_files_shape(configure, entities) -> None:  # type: ignore[no-untyped-def]
    result = national.build_batch(actor=CLI, dataset="100")
    batch = result.batch
    assert batch is not None and (result.accepted, result.refused) == (2, [])
    body = orjson.loads(batch.data)
    assert body["format"] == "ggzy-national-batch/1" and body["sequence"] == 1
    assert body["dataset"] == {"no": "100", "table": "LEGAL_PERSON_BASE", "label": "法人基本信息"}
    first = contexts(batch)[f"100:{uscc(1)}"]
    names = national_fields.load().dataset("100").names
    assert list(first) == sorted(names)  # canonical: every configured field, sorted
    assert {k: first[k] for k in ("LEGAL_NAME", "LEGAL_CODE", "LICENSE_NO", "ORGAN_NO",
                                   "LICENSE_END_DATE", "REGION_CODE", "REGISTER_PROVINCE",
                                   "REGISTER_CITY", "REG_CAPITAL", "REG_UNIT", "LEGAL_CONTACT",
                                   "LEGAL_CONTACT_PHONE", "LEGAL_ROLE", "PLATFORM_CODE",
                                   "DATA_TIMESTAMP", "BASIC_ACCOUNT_NO", "BASIC_BANK")} == {
        "LEGAL_NAME": "南京第1建设有限公司", "LEGAL_CODE": uscc(1), "LICENSE_NO": uscc(1),
        "ORGAN_NO": "000000001",  # characters 9–17 of 9132010 0000000001 + check
        "LICENSE_END_DATE": "99991231", "REGION_CODE": "320100", "REGISTER_PROVINCE": "江苏省",
        "REGISTER_CITY": "南京市", "REG_CAPITAL": "5000000.00", "REG_UNIT": "0",
        "LEGAL_CONTACT": "李四", "LEGAL_CONTACT_PHONE": "025-88880000", "LEGAL_ROLE": "03",
        "PLATFORM_CODE": PLATFORM["PLATFORM_CODE"],
        "DATA_TIMESTAMP": "20261123100000",  # T0 = 2026-11-23 02:00 UTC = 10:00 in China
        "BASIC_ACCOUNT_NO": "", "BASIC_BANK": "",  # the basic account is not public
    }  # fmt: skip
    assert "TRADE_PLAT" not in first  # not a works dataset
    assert {r["data_type"] for r in body["records"]} == {"1"}


def test_contact_persons_are_private_unless_the_configuration_shares_them(  # type: ignore[no-untyped-def]
    configure, entities
) -> None:
    configure({"share_contacts": False})
    result = national.build_batch(actor=CLI, dataset="100")
    # LEGAL_CONTACT and its phone are required by the field file: the records wait, refused
    assert result.batch is None and [r["key"] for r in result.refused] == [uscc(1), uscc(2)]
    assert {(x["field"], x["code"]) for x in result.refused[0]["reasons"]} == {
        ("LEGAL_CONTACT", "missing"), ("LEGAL_CONTACT_PHONE", "missing")}  # fmt: skip
    configure({"share_contacts": False, "datasets": {"100": {"fields": {
        "LEGAL_CONTACT": {"required": False}, "LEGAL_CONTACT_PHONE": {"required": False}}}}})  # fmt: skip
    batch = national.build_batch(actor=CLI, dataset="100").batch
    assert batch is not None and "李四" not in batch.content and "025-88880000" not in batch.content


def test_a_suspended_entity_is_not_exported(configure, entities) -> None:  # type: ignore[no-untyped-def]
    Entity.objects.filter(uscc=uscc(2)).update(status="suspended")
    batch = national.build_batch(actor=CLI, dataset="100").batch
    assert batch is not None and list(contexts(batch)) == [f"100:{uscc(1)}"]


def test_the_batch_is_canonical_bytes_signed_by_the_platform_key(configure, entities) -> None:  # type: ignore[no-untyped-def]
    batch = national.build_batch(actor=CLI, dataset="100").batch
    assert batch is not None
    data = batch.data
    assert canonical_json(orjson.loads(data)) == data  # re-encoding changes nothing
    assert batch.key_id == signing.key_id() and batch.signature_alg == "ecdsa-p256-sha256"
    assert national.verify_batch(batch)
    assert national.verify_bytes(data, batch.signature, signing.public_key_pem())
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    assert not national.verify_bytes(bytes(flipped), batch.signature)
    batch.content = bytes(flipped).decode("utf-8", "replace")
    assert not national.verify_batch(batch)
    import hashlib

    assert batch.sha256 == hashlib.sha256(data).hexdigest()
    assert len(batch.sm3) == 64 and batch.sm3 != batch.sha256
    assert batch.batch_id.startswith("NX100-00000001-")
    [built] = events("exchange.batch_built")
    assert built == {"dataset": "100", "sequence": 1, "records": 2, "refused": 0,
                     "sha256": batch.sha256, "sm3": batch.sm3, "key_id": batch.key_id,
                     "signature_alg": "ecdsa-p256-sha256"}  # fmt: skip


def test_only_records_changed_since_the_last_batch_are_in_the_next(configure, entities) -> None:  # type: ignore[no-untyped-def]
    first = national.build_batch(actor=CLI, dataset="100").batch
    again = national.build_batch(actor=CLI, dataset="100")
    assert again.batch is None and again.unchanged == 2  # nothing changed: nothing stored
    assert Batch.objects.count() == 1 and len(events("exchange.batch_built")) == 1
    Entity.objects.filter(uscc=uscc(2)).update(address="南京市鼓楼区北京西路2号")
    second = national.build_batch(actor=CLI, dataset="100").batch
    assert second is not None and second.sequence == 2 and second.record_count == 1
    [(key, row)] = contexts(second).items()
    assert key == f"100:{uscc(2)}" and row["LEGAL_UNIT_ADDRESS"] == "南京市鼓楼区北京西路2号"
    assert orjson.loads(second.data)["records"][0]["data_type"] == "2"  # an update
    cursor = Cursor.objects.get(dataset="100")
    assert (cursor.sequence, cursor.last_batch_id) == (2, second.pk)
    assert first is not None and first.batch_id != second.batch_id


# --- the length configuration and refusals ------------------------------------------------------


def test_an_overridden_length_refuses_the_record_with_its_reason(configure, entities) -> None:  # type: ignore[no-untyped-def]
    configure({"datasets": {"100": {"fields": {"LEGAL_NAME": {"max_length": 9}}}}})
    result = national.build_batch(actor=CLI, dataset="100")
    # "南京第1建设有限公司" is 10 characters: refused; "南京市交通建设局" (8) passes
    assert result.refused == [{"key": uscc(1), "reasons": [
        {"field": "LEGAL_NAME", "code": "too_long", "message": "超过最大长度 9 (too long: 10)"}]}]  # fmt: skip
    assert result.batch is not None and list(contexts(result.batch)) == [f"100:{uscc(2)}"]
    assert result.batch.report["refused"] == result.refused
    assert list(ExportedRecord.objects.values_list("key", flat=True)) == [uscc(2)]
    # never cut: with the default length again, the refused record goes out whole next time
    configure()
    again = national.build_batch(actor=CLI, dataset="100").batch
    assert again is not None
    assert contexts(again)[f"100:{uscc(1)}"]["LEGAL_NAME"] == "南京第1建设有限公司"


def test_when_every_changed_record_is_refused_nothing_is_written_but_the_refusal(  # type: ignore[no-untyped-def]
    configure, entities
) -> None:
    configure({"datasets": {"100": {"fields": {"LEGAL_NAME": {"max_length": 2}}}}})
    result = national.build_batch(actor=CLI, dataset="100")
    assert result.batch is None and len(result.refused) == 2
    assert not Batch.objects.exists() and not ExportedRecord.objects.exists()
    assert Cursor.objects.get(dataset="100").sequence == 0
    [refusal] = events("exchange.records_refused")
    assert refusal == {"refused": True, "reason": "records_refused", "dataset": "100",
                       "keys": [uscc(1), uscc(2)]}  # fmt: skip


def test_unconfigured_platform_codes_refuse_the_build(configure, entities) -> None:  # type: ignore[no-untyped-def]
    configure(platform=False)
    with pytest.raises(ValidationFailed) as exc:
        national.build_batch(actor=CLI, dataset="100")
    assert exc.value.code == "platform_not_configured" and exc.value.status == 422
    assert exc.value.detail == {"missing": ["PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE"]}
    assert not Batch.objects.exists() and not Cursor.objects.exists()
    assert not Event.objects.filter(event_type__startswith="exchange.").exists()


def test_an_unknown_dataset_and_a_bad_configuration_are_4xx(configure, entities, settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        national.build_batch(actor=CLI, dataset="999")
    assert exc.value.code == "unknown_dataset"
    with pytest.raises(ValidationFailed):
        national.build_all(actor=CLI, datasets=["100", "999"])
    assert not Batch.objects.exists()  # refused before building anything
    configure({"datasets": {"100": {"fields": {"LEGAL_NAME": {"max_length": "9"}}}}})
    with pytest.raises(FieldConfigError):
        national.build_batch(actor=CLI, dataset="100")


def test_only_the_centers_administrator_builds(configure, entities, users) -> None:  # type: ignore[no-untyped-def]
    for role in ("bidder", "tenderer", "center_operations", "regulator"):
        with pytest.raises(PermissionDenied):
            national.build_batch(actor=users[role], dataset="100")
    with pytest.raises(NotAuthenticated):
        national.build_batch(actor=None, dataset="100")
    assert not Batch.objects.exists()
    assert national.build_batch(actor=users["center_admin"], dataset="100").batch is not None


@pytest.mark.parametrize("dataset", ["600", "601", "700", "701", "750", "753"])
def test_land_and_property_datasets_are_defined_and_export_nothing(  # type: ignore[no-untyped-def]
    configure, entities, dataset
) -> None:
    result = national.build_batch(actor=CLI, dataset=dataset)
    assert (result.batch, result.accepted, result.sourced) == (None, 0, False)
    assert national_fields.load().dataset(dataset).names  # the shape is configured
    assert not Batch.objects.exists()


# --- a whole tender: what is public when ----------------------------------------------------------


def _contracted(world: aw.AwardWorld) -> None:
    world.at(aw.cn(2026, 12, 19, 10))  # after either publicity used here has ended
    award.issue_award(actor=world.tenderer, section=world.section)
    world.at(aw.cn(2026, 12, 21, 9))
    contract = services_contract.record_contract(
        actor=world.tenderer, section=world.section, amount="9000000.00",
        signed_on=date(2026, 12, 20), security_amount="900000.00",
        security_form="bank_guarantee")  # fmt: skip
    services_contract.publish_contract(actor=world.tenderer, contract=contract)


def test_a_tender_is_exported_as_it_becomes_public(configure, db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = aw.signed_world(frozen_clock)
    configure(RELAXED)
    # the publicity is scheduled to start a day after the report: not public yet
    publish(world, starts_at=aw.SIGNED + aw.days(1), ends_at=aw.SIGNED + aw.days(4))
    assert national.build_batch(actor=CLI, dataset="510").accepted == 0
    opening = contexts(national.build_batch(actor=CLI, dataset="506").batch)  # type: ignore[arg-type]
    [(key, row)] = opening.items()
    section = world.section
    assert key == f"506:{section.public_id}"
    assert row["BID_SECTION_CODES"] == section.code and len(section.code) == 22
    assert row["BID_OPENING_ACTOR"].count("、") == 2  # the three bidders, after the opening
    assert "9000000.00" in row["BID_OPENING_CONTENT"]
    assert row["TRADE_PLAT"] == PLATFORM["TRADE_PLAT"]  # a works dataset
    world.at(aw.SIGNED + aw.days(1))
    candidates = contexts(national.build_batch(actor=CLI, dataset="510").batch)  # type: ignore[arg-type]
    ranked = sorted(candidates.values(), key=lambda r: r["WIN_CANDIDATE_ORDER"])
    assert [(r["WIN_CANDIDATE_ORDER"], r["BID_PRICE"]) for r in ranked] == [
        ("1", "9000000.00"), ("2", "9300000.00"), ("3", "9500000.00")]  # fmt: skip
    world.at(aw.SIGNED + aw.days(4))
    _contracted(world)
    results = national.build_all(actor=CLI)
    built = {r.dataset: (r.accepted, len(r.refused)) for r in results}
    assert built == {"100": (5, 0), "500": (1, 0), "501": (1, 0), "502": (1, 0), "503": (1, 0),
                     "506": (0, 0), "510": (0, 0), "512": (1, 0), "513": (1, 0), "600": (0, 0),
                     "601": (0, 0), "700": (0, 0), "701": (0, 0), "750": (0, 0),
                     "753": (0, 0)}  # fmt: skip
    project = section.project
    [contract] = contexts(Batch.objects.get(dataset="512")).values()
    assert (
        contract["CONTRACT_PRICE"],
        contract["CONTRACT_SIGN_TIME"],
        contract["BIDDER_CODE"],
    ) == ("9000000.00", "20261220000000", aw.entity_of(world, 1).uscc)
    [result] = contexts(Batch.objects.get(dataset="513")).values()
    assert result["BID_AMOUNT"] == "9000000.00" and result["BULLETIN_TYPE"] == "3"
    [tender] = contexts(Batch.objects.get(dataset="501")).values()
    assert tender["TENDER_PROJECT_CODE"] == project.trading_code and tender["TENDER_MODE"] == "1"
    [notice] = contexts(Batch.objects.get(dataset="503")).values()
    assert notice["URL"] == f"https://ggzy.nanjing.example/projects/{project.public_id}/"


def test_under_the_packaged_lengths_the_18_character_code_is_refused_as_too_long(  # type: ignore[no-untyped-def]
    configure, db, region, frozen_clock
) -> None:
    world = aw.signed_world(frozen_clock)
    configure({"datasets": {"500": {"fields": {"APPROVAL_NAME": {"required": False},
                                               "CLASS_VER_CODE": {"required": False},
                                               "INDUSTRIES_TYPE": {"required": False}}}}})  # fmt: skip
    result = national.build_batch(actor=CLI, dataset="500")
    assert result.batch is None
    [refused] = result.refused
    assert refused["key"] == world.section.project.public_id
    assert refused["reasons"] == [{"field": "PROJECT_CODE", "code": "too_long",
                                   "message": "超过最大长度 17 (too long: 18)"}]  # fmt: skip


def test_secrets_are_never_exported(configure, db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = aw.signed_world(frozen_clock, deposit="200000.00")
    configure(RELAXED)
    publish(world)
    world.at(aw.SIGNED + aw.days(3))
    _contracted(world)
    national.build_all(actor=CLI)
    exported = "".join(Batch.objects.values_list("content", flat=True))
    assert Batch.objects.count() == 9  # every sourced dataset
    for e in Entity.objects.all():
        for secret in (e.bank_account, e.legal_representative_id):
            if secret:
                assert secret not in exported
    assert "6222020200001234" not in exported  # the deposit's payer account
    assert "sealed_identity" not in exported and "bidder_tag" not in exported
    for bid_key in ("manifest_digest", "content_key", "storage_name"):
        assert bid_key not in exported


def test_an_invited_tenders_announcement_is_not_exported(  # type: ignore[no-untyped-def]
    configure, db, region, frozen_clock
) -> None:
    from ggzy.catalog.models import Procedure
    from ggzy.tendering.models import Project

    world = aw.signed_world(frozen_clock)
    configure(RELAXED)
    Procedure.objects.get_or_create(code="invited_tender", defaults={"name": "邀请招标"})
    Project.objects.filter(pk=world.section.project_id).update(procedure_id="invited_tender")
    assert national.build_batch(actor=CLI, dataset="503").accepted == 0
    [tender] = contexts(national.build_batch(actor=CLI, dataset="501").batch).values()  # type: ignore[arg-type]
    assert tender["TENDER_MODE"] == "2"
