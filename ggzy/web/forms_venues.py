"""Forms for the venue pages. They check only the shape of what was sent; every rule (conflicts,
the working calendar, seats, R62, who may write a venue's log) is the services'."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ggzy.core.clock import CHINA
from ggzy.venues.states import EventKind, Purpose

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CalendarForm(forms.Form):
    week = forms.DateField(label=_("周（任一日）"), required=False, widget=DATE)
    site = forms.ChoiceField(label=_("交易场所"), required=False)

    def __init__(self, *args: Any, sites: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("全部")), *sites]  # type: ignore[attr-defined]


class BookingForm(forms.Form):
    """A booking: which venue, for which section, when (China time, one day)."""

    venue = forms.ChoiceField(label=_("场地"))
    section = forms.CharField(label=_("标段编号（public id）"), max_length=32)
    purpose = forms.ChoiceField(label=_("用途"), choices=Purpose.choices)
    day = forms.DateField(label=_("日期"), widget=DATE)
    start = forms.TimeField(label=_("开始时间"), widget=TIME)
    end = forms.TimeField(label=_("结束时间"), widget=TIME)
    override_reason = forms.CharField(
        label=_("非工作时间使用理由"), max_length=300, required=False,
        help_text=_("在交易场所工作日、工作时间以外使用时必填"),
    )  # fmt: skip

    def __init__(self, *args: Any, venues: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["venue"].choices = venues  # type: ignore[attr-defined]

    def moments(self) -> tuple[datetime, datetime]:
        d = self.cleaned_data
        day = d["day"]
        return (datetime.combine(day, d["start"], tzinfo=CHINA),
                datetime.combine(day, d["end"], tzinfo=CHINA))  # fmt: skip


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)


class ExpertForm(forms.Form):
    expert = forms.CharField(label=_("专家编号（public id）"), max_length=32)


class WitnessForm(forms.Form):
    witness = forms.CharField(label=_("见证人用户名"), max_length=150)


class SessionForm(forms.Form):
    booking = forms.ChoiceField(label=_("主场预订"))
    witness = forms.CharField(label=_("主场见证人用户名"), max_length=150)

    def __init__(self, *args: Any, bookings: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["booking"].choices = bookings  # type: ignore[attr-defined]


class SecondaryForm(SessionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["booking"].label = _("副场预订")
        self.fields["witness"].label = _("副场见证人用户名")


class EventForm(forms.Form):
    """One witness event; the console offers only the fields each kind needs."""

    kind = forms.ChoiceField(label=_("事件"), choices=EventKind.choices)
    expert = forms.ChoiceField(label=_("签到专家"), required=False)
    digest = forms.CharField(label=_("录像文件 SHA-256"), max_length=64, required=False)
    note = forms.CharField(label=_("说明"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args: Any, experts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expert"].choices = [("", "—"), *experts]  # type: ignore[attr-defined]
