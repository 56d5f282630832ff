"""The expert draw's rows of the two API matrices (tests/api/test_permissions.py and
tests/api/test_errors.py), kept here so the shared files carry a line or two each.

Each builds on the matrix's tender world (an opened section: its bidders known) and
``draw_world.matrix_draw`` (one B01 expert of a neutral employer drawn). What a row consumes is
reused while it is still in the state the row needs: a refusal changes nothing, so every refused
actor of a row gets the same draw or invitation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.experts import draw_world

EXPERTS = "/api/v1/experts"
DRAWS = f"{EXPERTS}/draws"


def _section(holder: Any) -> Any:
    """The opened section of the world (made once per world)."""
    if "_draw_section" not in holder.__dict__:
        holder.__dict__["_draw_section"] = holder.tender.decrypting()[0].section
    return holder.__dict__["_draw_section"]


def _reuse(holder: Any, key: str, make: Any, still: Any) -> Any:
    row = holder.__dict__.get(key)
    if row is not None:
        row.refresh_from_db()
    if row is None or not still(row):
        row = holder.__dict__[key] = make()
    return row


def _request_body(holder: Any, ops: Any, staff: Any) -> dict[str, Any]:
    if "_draw_body" not in holder.__dict__:
        from ggzy.core import clock

        section = _section(holder)
        _taxonomy(staff)
        draw_world.neutral_experts(staff, n=2)
        holder.__dict__["_draw_body"] = {
            "section": section.public_id,
            "session_at": (clock.now() + timedelta(days=2)).isoformat(),
            "quotas": [{"specialty": "B01", "count": 1, "backups": 0}],
        }
    return holder.__dict__["_draw_body"]  # type: ignore[no-any-return]


def _taxonomy(staff: Any) -> bool:
    from ggzy.experts.models import Specialty
    from tests.experts.world import install_taxonomy

    if not Specialty.objects.filter(code="B01").exists():
        install_taxonomy(staff)
    return True


def _drawn(holder: Any, ops: Any, staff: Any) -> Any:
    return _reuse(
        holder,
        "_draw_drawn",
        lambda: draw_world.matrix_draw(ops=ops, staff=staff, section=_section(holder)),
        lambda d: True,
    )


def _due_for_reveal(holder: Any, ops: Any, staff: Any, clock_handle: Any) -> Any:
    def make() -> Any:
        from ggzy.core import clock

        draw = draw_world.matrix_draw(
            ops=ops,
            staff=staff,
            section=_section(holder),
            session_at=clock.now() + timedelta(minutes=1),
        )
        draw.drawn.update(status="confirmed")  # answered: nothing for the reveal to time out
        clock_handle.advance(minutes=2)
        return draw

    return _reuse(holder, "_draw_reveal", make, lambda d: d.revealed_at is None)


def _invitation(holder: Any, ops: Any, staff: Any, owner: Any) -> Any:
    """An open invitation of ``owner``, the only candidate of a draw of one, no backups."""

    def make() -> Any:
        # a fresh section each time: the owner was drawn for the last one already
        holder.__dict__.pop("_draw_section", None)
        draw = draw_world.matrix_draw(ops=ops, staff=staff, section=_section(holder), owner=owner)
        return draw_world.owner_invitation(draw, owner)

    return _reuse(holder, "_draw_invitation", make, lambda i: i.status == "notified")


# --- the permission matrix -----------------------------------------------------------------------


def permission_rules(
    rule: Any,
    *,
    signed_in: frozenset[str],
    staff: frozenset[str],
    operations: frozenset[str],
    expert: frozenset[str],
) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``. The organizing desk requests and reveals (a draw
    does not exist for whoever may not see draws: every market role and the expert); the
    cast's "expert" answers their own invitation (everyone else is refused by role)."""

    def people(c: Any) -> tuple[Any, Any]:
        return c.users["center_operations"], c.users["center_admin"]

    def request(c: Any, actor: str) -> tuple[str, Any]:
        return DRAWS, _request_body(c, *people(c))

    def reveal(c: Any, actor: str) -> tuple[str, Any]:
        return f"{DRAWS}/{_due_for_reveal(c, *people(c), c.clock).public_id}/reveal", None

    def answer(suffix: str, body: Any) -> Any:
        def build(c: Any, actor: str) -> tuple[str, Any]:
            row = _invitation(c, *people(c), c.users["expert"])
            return f"{EXPERTS}/invitations/{row.public_id}/{suffix}", body

        return build

    return {
        f"POST {DRAWS}": rule(
            operations, 201, ("experts.draw_committed", "experts.draw_drawn"), request
        ),
        f"POST {DRAWS}/{{draw_id}}/reveal": rule(
            operations,
            200,
            ("experts.draw_revealed",),
            reveal,
            hidden=signed_in - staff,
            not_found="draw_not_found",
        ),
        f"POST {EXPERTS}/invitations/{{invitation_id}}/confirm": rule(
            expert,
            200,
            ("experts.draw_confirmed", "experts.draw_complete"),
            answer("confirm", None),
        ),
        f"POST {EXPERTS}/invitations/{{invitation_id}}/decline": rule(
            expert,
            200,
            ("experts.draw_declined", "experts.draw_backups_exhausted"),
            answer("decline", {"reason": "已有安排"}),
        ),
    }


# --- the error matrix -----------------------------------------------------------------------------


def _w_people(w: Any) -> tuple[Any, Any]:
    """omni runs the draw; another center admin keeps the pool (omni's own expert record
    cannot be entered by omni)."""
    if "_draw_staff" not in w.__dict__:
        from tests.conftest import make_user

        w.__dict__["_draw_staff"] = make_user("draw_pool_keeper", "center_admin")
    _taxonomy(w.__dict__["_draw_staff"])
    return w.omni, w.__dict__["_draw_staff"]


PATH_VALUES: dict[str, Any] = {
    "draw_id": lambda w: _drawn(w, *_w_people(w)).public_id,
    "invitation_id": lambda w: _invitation(w, *_w_people(w), w.omni).public_id,
}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "draw_id": [("0" * 32, 404, "draw_not_found"), ("no-such-thing", 404, "draw_not_found")],
    "invitation_id": [
        ("0" * 32, 404, "invitation_not_found"),
        ("no-such-thing", 404, "invitation_not_found"),
    ],
}
PREPARED: dict[str, Any] = {
    f"POST {DRAWS}": lambda w: ({}, _request_body(w, *_w_people(w))),
    f"POST {DRAWS}/{{draw_id}}/reveal": lambda w: (
        {"draw_id": _due_for_reveal(w, *_w_people(w), w.clock).public_id},
        None,
    ),
    f"POST {EXPERTS}/invitations/{{invitation_id}}/decline": lambda w: (
        {"invitation_id": _invitation(w, *_w_people(w), w.omni).public_id},
        {"reason": "已有安排"},
    ),
}
