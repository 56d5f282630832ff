"""Sign-in, sign-out, sign-up and the personal page (roles, entities, API tokens)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ggzy.accounts import services
from ggzy.accounts.roles import Role
from ggzy.accounts.selectors import tokens_for
from ggzy.core import clock
from ggzy.core.errors import DomainError, Locked, NotAuthenticated
from ggzy.registry.selectors import entities_for_user
from ggzy.web.forms import LoginForm, SignupForm, TokenForm, show_error

BACKEND = "ggzy.accounts.backends.LockoutAwareBackend"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _locked_message(exc: Locked) -> str:
    until = exc.detail.get("locked_until") if isinstance(exc.detail, dict) else None
    if until:
        when = formats.date_format(timezone.localtime(datetime.fromisoformat(until)), "Y-m-d H:i")
        return _("账户已锁定：连续多次密码错误。请于 %(time)s 之后再试。") % {"time": when}
    return _("账户已锁定：连续多次密码错误。请稍后再试。")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None, initial={"username": request.GET.get("username", "")})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.authenticate(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except Locked as exc:
            form.add_error(None, _locked_message(exc))
        except NotAuthenticated:
            form.add_error(None, _("用户名或密码错误。"))
        else:
            login(request, user, backend=BACKEND)
            return redirect(_safe_next(request, reverse("web:me")))
    return render(request, "web/login.html", {"form": form, "next": _safe_next(request, "")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("web:home")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                actor="system:signup",
                username=data["username"],
                password=data["password"],
                roles=[data["role"]],
                display_name=data["display_name"],
                email=data["email"],
                phone=data["phone"],
            )
        except DomainError as exc:
            show_error(exc, form)
        else:
            messages.success(request, _("注册成功，请登录。"))
            return redirect(f"{reverse('web:login')}?{urlencode({'username': user.username})}")
    return render(request, "web/signup.html", {"form": form})


def _render_me(
    request: HttpRequest,
    token_form: TokenForm | None = None,
    new_secret: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    roles = [Role(r).label for r in sorted(user.role_set) if r in Role.values]  # type: ignore[union-attr]
    tokens = tokens_for(user)  # type: ignore[arg-type]
    return render(
        request,
        "web/me.html",
        {
            "roles": roles,
            "entities": entities_for_user(user),
            "tokens": tokens,
            "token_form": token_form or TokenForm(),
            "new_secret": new_secret,
            "now": clock.now(),
        },
        status=status,
    )


@login_required
def me(request: HttpRequest) -> HttpResponse:
    return _render_me(request)


@login_required
@require_POST
def issue_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _token, secret = services.issue_token(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except DomainError as exc:
            show_error(exc, form)
        else:
            # The secret is shown in this answer only (never stored, never redirected through).
            response = _render_me(request, new_secret=secret)
            response["Cache-Control"] = "no-store"
            return response
    return _render_me(request, token_form=form)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.revoke_token(actor=request.user, token_id=token_id)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("令牌已吊销。"))
    return redirect("web:me")
