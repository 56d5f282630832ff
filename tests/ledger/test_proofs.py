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


def test_consistency_between_all_sizes() -> None:
    fill(13)
    sign_tree_head()
    for old in range(1, 14):
        offline.check_consistency(proofs.consistency_proof(old, 13))


def test_bad_proof_requests_are_refused() -> None:
    fill(3)
    with pytest.raises(NotFound):
        proofs.inclusion_proof(99)
    with pytest.raises(ValidationFailed):
        proofs.consistency_proof(3, 2)
    with pytest.raises(NotFound):
        proofs.consistency_proof(1, 50)
    with pytest.raises(ValidationFailed):
        proofs.inclusion_proof(3, tree_size=2)


def test_cli_proof_round_trip(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    fill(6)
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
