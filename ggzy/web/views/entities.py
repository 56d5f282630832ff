"""The entity directory (htmx partial), registration, profile, and editing pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.registry import selectors, services
from ggzy.registry.models import Entity, EntityStatus, EntityType, MemberRole
from ggzy.web.forms import (
    ContactForm,
    DirectoryForm,
    EntityEditForm,
    MemberForm,
    QualificationForm,
    RegisterEntityForm,
    entity_data,
    optional_row,
    show_error,
)
from ggzy.web.views.common import error_page, is_htmx_partial, region_choices

PAGE_SIZE = 20

ROLE_LABELS = {
    "bidder": gettext_lazy("投标人/供应商"),
    "tenderer": gettext_lazy("招标人/采购人"),
    "agent": gettext_lazy("招标代理机构"),
}
CHANGE_LABELS = {
    "qualification_added": gettext_lazy("新增资质"),
    "qualification_removed": gettext_lazy("删除资质"),
    "contact_added": gettext_lazy("新增联系人"),
    "status": gettext_lazy("状态"),
}


def _role_labels(roles: list[str]) -> list[str]:
    return [str(ROLE_LABELS.get(r, r)) for r in roles]


def _members(data: dict[str, Any]) -> list[dict[str, Any]]:
    labels = dict(MemberRole.choices)
    return [{**m, "role_label": labels.get(m["role"], m["role"])} for m in data.get("members", [])]


def _change_value(key: str, value: Any) -> str | None:
    """A recorded value as a reader understands it (``True`` → 是, ``enterprise`` → 企业法人)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key == "entity_type":
        return str(dict(EntityType.choices).get(value, value))
    if key == "status":
        return str(dict(EntityStatus.choices).get(value, value))
    return str(value)


def _changes(changes: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, pair in sorted(changes.items()):
        old, new = (_change_value(key, v) for v in pair)
        if old is not None or new is not None:
            rows.append({"label": _field_label(key), "old": old, "new": new})
    return rows


def _field_label(key: str) -> str:
    if key in CHANGE_LABELS:
        return str(CHANGE_LABELS[key])
    try:
        return str(Entity._meta.get_field(key).verbose_name)
    except FieldDoesNotExist:
        return key


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A refusal that is about the whole page, not one field."""
    if isinstance(exc, NotFound):
        return error_page(request, 404, exc.message)
    return error_page(request, 403, exc.message)


def _entity_or_404(request: HttpRequest, uscc: str) -> Entity | HttpResponse:
    try:
        return selectors.get_entity(actor=request.user, uscc=uscc)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


# --- directory -----------------------------------------------------------------------------


def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryForm(request.GET or None, regions=region_choices())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entities = selectors.entity_directory(
        q=filters.get("q", "").strip(),
        region=filters.get("region", ""),
        role=filters.get("role", ""),
    )
    page = Paginator(entities, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [{"entity": e, "roles": _role_labels(e.market_roles)} for e in page.object_list]
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    template = (
        "web/entities/_results.html" if is_htmx_partial(request) else "web/entities/directory.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- registration --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    main = RegisterEntityForm(data, regions=region_choices(), initial={"is_bidder": True})
    contact = optional_row(ContactForm, data, "contact")
    qualification = optional_row(QualificationForm, data, "qual")
    if data is not None and all([main.is_valid(), contact.is_valid(), qualification.is_valid()]):
        try:
            entity = services.register_entity(
                actor=request.user,  # type: ignore[arg-type]
                data=entity_data(main, contact, qualification),
            )
        except (NotAuthenticated, PermissionDenied) as exc:
            return _refused(request, exc)
        except DomainError as exc:
            show_error(exc, main, contact, qualification)
        else:
            messages.success(request, _("市场主体登记成功。"))
            return redirect("web:entity", uscc=entity.uscc)
    return render(
        request,
        "web/entities/register.html",
        {"form": main, "contact_form": contact, "qualification_form": qualification},
    )


# --- profile -------------------------------------------------------------------------------


def profile(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    if isinstance(entity, HttpResponse):
        return entity
    data = selectors.view_for(request.user, entity)
    versions = [
        {
            "version": v.version,
            "changed_at": v.changed_at,
            "changed_by": v.changed_by,
            "changes": _changes(v.changes),
        }
        for v in selectors.entity_versions(actor=request.user, entity=entity)
    ]
    return render(
        request,
        "web/entities/profile.html",
        {
            "entity": data,
            "roles": _role_labels(data["market_roles"]),
            "private": "contacts" in data,
            "members": _members(data),
            "versions": versions,
            "can_edit": selectors.can_edit(request.user, entity),
        },
    )


# --- editing -------------------------------------------------------------------------------


def _edit_initial(data: dict[str, Any]) -> dict[str, Any]:
    initial = {k: data.get(k) for k in EntityEditForm.base_fields if k in data}
    initial.update({f"is_{r}": r in data["market_roles"] for r in ROLE_LABELS})
    initial["expected_version"] = data["version"]
    return initial


def _render_edit(
    request: HttpRequest,
    entity: Entity,
    *,
    form: EntityEditForm | None = None,
    qualification_form: QualificationForm | None = None,
    member_form: MemberForm | None = None,
) -> HttpResponse:
    if not selectors.can_edit(request.user, entity):
        return error_page(request, 403, _("您无权修改该市场主体的登记信息。"))
    data = selectors.view_for(request.user, entity)
    return render(
        request,
        "web/entities/edit.html",
        {
            "entity": data,
            "members": _members(data),
            "form": form or EntityEditForm(initial=_edit_initial(data), regions=region_choices()),
            "qualification_form": qualification_form or QualificationForm(prefix="qual"),
            "member_form": member_form or MemberForm(prefix="member"),
            "can_manage_members": selectors.can_manage_members(request.user, entity),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    if isinstance(entity, HttpResponse):
        return entity
    if request.method == "GET":
        return _render_edit(request, entity)
    form = EntityEditForm(request.POST, regions=region_choices())
    if form.is_valid():
        try:
            services.update_entity(
                actor=request.user,  # type: ignore[arg-type]
                entity=entity,
                changes=form.changes(),
                expected_version=form.cleaned_data["expected_version"],
            )
        except (NotAuthenticated, PermissionDenied) as exc:
            return _refused(request, exc)
        except DomainError as exc:
            show_error(exc, form)
        else:
            messages.success(request, _("登记信息已保存。"))
            return redirect("web:entity", uscc=entity.uscc)
    return _render_edit(request, entity, form=form)


@login_required
@require_POST
def add_qualification(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    if isinstance(entity, HttpResponse):
        return entity
    form = QualificationForm(request.POST, prefix="qual")
    if form.is_valid():
        try:
            services.add_qualification(actor=request.user, entity=entity, data=form.data_object())  # type: ignore[arg-type]
        except (NotAuthenticated, PermissionDenied) as exc:
            return _refused(request, exc)
        except DomainError as exc:
            show_error(exc, form)
        else:
            messages.success(request, _("资质已添加。"))
            return redirect("web:entity_edit", uscc=entity.uscc)
    return _render_edit(request, entity, qualification_form=form)


@login_required
@require_POST
def remove_qualification(request: HttpRequest, uscc: str, qualification_id: int) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    if isinstance(entity, HttpResponse):
        return entity
    try:
        services.remove_qualification(
            actor=request.user,  # type: ignore[arg-type]
            entity=entity,
            qualification_id=qualification_id,
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("资质已删除。"))
    return redirect("web:entity_edit", uscc=entity.uscc)


@login_required
@require_POST
def add_member(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    if isinstance(entity, HttpResponse):
        return entity
    form = MemberForm(request.POST, prefix="member")
    if form.is_valid():
        try:
            services.add_member(
                actor=request.user,  # type: ignore[arg-type]
                entity=entity,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
            )
        except (NotAuthenticated, PermissionDenied) as exc:
            return _refused(request, exc)
        except DomainError as exc:
            show_error(exc, form)
        else:
            messages.success(request, _("成员已添加。"))
            return redirect("web:entity_edit", uscc=entity.uscc)
    return _render_edit(request, entity, member_form=form)
