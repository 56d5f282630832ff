"""Helpers for the portal tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from ggzy.accounts.models import User


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())
