"""Who may act on an evaluation session beyond their platform roles: its committee members.

A member sees the session (their own sheet, never another member's scores before the report)
and scores, reviews, asks for time and signs on it. Nobody else holds ``evaluation.score``.
"""

from __future__ import annotations

from typing import Any

MEMBER_PERMISSIONS = {"evaluation.view", "evaluation.score"}


def session_rule(actor: Any, permission: str, session: Any) -> bool:
    if permission not in MEMBER_PERMISSIONS:
        return False
    from ggzy.evaluation.models import CommitteeMember

    return CommitteeMember.objects.filter(session_id=session.pk, user_id=actor.pk).exists()
