"""Inclusion and consistency proofs that anyone can check without the database."""

from __future__ import annotations

import json
import math

import pytest
from django.core.management import call_command

from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.ledger import offline, proofs, signing
from ggzy.ledger.services import sign_tree_head
from tests.ledger.helpers import fill

pytestmark = pytest.mark.django_db


def test_every_event_has_a_valid_inclusion_proof() -> None:
    fill(37)
    key = signing.public_key_pem()
    for seq in range(1, 38):
        proof = proofs.inclusion_proof(seq)
        assert proof["tree_size"] == 37
        assert len(proof["audit_path"]) <= math.ceil(math.log2(37))
        offline.check_inclusion(json.loads(json.dumps(proof)), key)


def test_a_doctored_proof_is_rejected() -> None:
    fill(9)
    key = signing.public_key_pem()
    proof = proofs.inclusion_proof(4)
    for mutate in (
        lambda p: p["event"].update(subject="other"),
        lambda p: p["audit_path"].__setitem__(0, "00" * 32),
        lambda p: p.update(leaf_index=4),
        lambda p: p["tree_head"].update(root="11" * 32),
    ):
        doctored = json.loads(json.dumps(proof))
        mutate(doctored)
        with pytest.raises(offline.ProofInvalid):
            offline.check_inclusion(doctored, key)


def test_proofs_against_an_older_signed_head() -> None:
    fill(10)
    old = sign_tree_head()
    fill(10, start=10)
    new = sign_tree_head()
    assert old is not None and new is not None and (old.size, new.size) == (10, 20)
    offline.check_inclusion(proofs.inclusion_proof(3, tree_size=10), signing.public_key_pem())
    proof = proofs.consistency_proof(10, 20)
    offline.check_consistency(proof, signing.public_key_pem())
    proof["old_root"] = "22" * 32
    with pytest.raises(offline.ProofInvalid):
        offline.check_consistency(proof)


def test_consistency_between_every_pair_of_signed_heads() -> None:
    for n in range(1, 14):
        fill(1, start=n)
        sign_tree_head()
    key = signing.public_key_pem()
    for old in range(1, 14):
        for new in range(old, 14):
            offline.check_consistency(proofs.consistency_proof(old, new), key)


def test_a_consistency_proof_must_match_its_signed_heads() -> None:
    for count in (4, 2, 3):  # signed heads at sizes 4, 6 and 9
        fill(count, start=count * 10)
        sign_tree_head()
    genuine = proofs.consistency_proof(4, 9)
    forged = json.loads(json.dumps(genuine))
    forged["new_tree_head"] = proofs.consistency_proof(4, 6)["new_tree_head"]
    with pytest.raises(offline.ProofInvalid, match="does not match"):
        offline.check_consistency(forged, signing.public_key_pem())
    del forged["new_tree_head"]
    with pytest.raises(offline.ProofInvalid, match="missing"):
        offline.check_consistency(forged)


def test_bad_proof_requests_are_refused() -> None:
    fill(3)
    with pytest.raises(NotFound):
        proofs.inclusion_proof(99)
    with pytest.raises(ValidationFailed):
        proofs.consistency_proof(3, 2)
    with pytest.raises(NotFound):
        proofs.consistency_proof(1, 50)
    with pytest.raises(NotFound):  # no signed head of size 1 to be consistent with
        proofs.consistency_proof(1, 3)
    with pytest.raises(ValidationFailed):
        proofs.inclusion_proof(3, tree_size=2)


def test_cli_proof_round_trip(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    fill(2)
    sign_tree_head()
    fill(4, start=2)
    call_command("ledger", "head")
    head = json.loads(capsys.readouterr().out)
    assert head["size"] == 6
    call_command("ledger", "proof", "5")
    path = tmp_path / "proof.json"
    path.write_text(capsys.readouterr().out)
    call_command("ledger", "key")
    keyfile = tmp_path / "key.pem"
    keyfile.write_text(capsys.readouterr().out)
    assert offline.main([str(path), "--key", str(keyfile)]) == 0
    assert capsys.readouterr().out.startswith("OK: event 5 is included")
    call_command("ledger", "consistency", "2", "6")
    assert (
        offline.main([str(_write(tmp_path, capsys.readouterr().out)), "--key", str(keyfile)]) == 0
    )


def _write(tmp_path, text: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "c.json"
    p.write_text(text)
    return p


def test_reading_pages_does_not_sign_a_head_per_event(frozen_clock) -> None:  # type: ignore[no-untyped-def]
    from ggzy.ledger.models import TreeHead

    fill(3)
    first = proofs.latest_tree_head()
    fill(1, start=3)
    assert proofs.latest_tree_head() == first  # within GGZY_LEDGER_HEAD_INTERVAL: no new signature
    assert proofs.inclusion_proof(4)["tree_size"] == 4  # a proof still gets a head that covers it
    fill(1, start=4)
    frozen_clock.advance(seconds=11)
    assert proofs.latest_tree_head().size == 5  # type: ignore[union-attr]
    assert TreeHead.objects.count() == 3
