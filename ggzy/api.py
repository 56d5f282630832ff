"""The JSON API root: ``/api/v1/``. One error shape, ``{"code", "message", "detail"}``, for all."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from ggzy import __version__
from ggzy.core.errors import DomainError, UnsupportedMediaType, ValidationFailed

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from ggzy.accounts.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session, CSRF-checked on unsafe methods."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # A caller that sent a bearer token is a machine client: when the token was refused,
        # answer 401 (not_authenticated), not the session's CSRF 403.
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


class OptionalAuth:
    """Lets anonymous callers through (public reads) while still recognising tokens and sessions."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            user = TokenAuth().authenticate(request, header[7:].strip())
            if user is None:
                raise AuthenticationError()
            return user
        return getattr(request, "user", None) or True


class NulCharacterRefused(ValidationFailed):
    code = "nul_character"

    def __init__(self) -> None:
        super().__init__(
            "请求中含有不允许的空字符 (NUL, U+0000) (request contains a NUL character)"
        )


def _refuse_nul(value: Any) -> None:
    """PostgreSQL text cannot hold U+0000; refuse it at the door instead of failing in the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise NulCharacterRefused()
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item)


class StrictParser(Parser):
    """The default JSON and query-string parser, refusing NUL characters anywhere in them."""

    def parse_body(self, request: HttpRequest) -> Any:
        # JSON only: a cross-site <form enctype="text/plain"> must not be able to post a body
        # the API would parse (login CSRF), since forms cannot send application/json.
        if request.body and request.content_type != "application/json":
            raise UnsupportedMediaType(
                "请求体须为 application/json (JSON bodies only)",
                detail={"content_type": request.content_type},
            )
        data = super().parse_body(request)
        _refuse_nul(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> Any:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(parsed)
        return parsed


token_auth = TokenAuth()
session_auth = SessionAuth()
AUTH = [token_auth, session_auth]
PUBLIC = OptionalAuth()

api = NinjaAPI(
    title="OpenGGZY API",
    version="1",
    description=(
        "公共资源交易平台 JSON API。错误统一为 {code, message, detail}。"
        " Authenticate with `Authorization: Bearer ggzy_…` or a browser session."
    ),
    urls_namespace="api",
    auth=AUTH,
    parser=StrictParser(),
)
api.info = {"x-ggzy-version": __version__}  # type: ignore[attr-defined]


def error(
    request: HttpRequest, status: int, code: str, message: str, detail: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail}, status=status
    )


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(NinjaValidationError)
def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return error(
        request, 422, "validation_error", "请求内容不符合要求 (request does not validate)", detail
    )


@api.exception_handler(AuthenticationError)
def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(
        request, 401, "not_authenticated", "请先登录或提供有效令牌 (authentication required)"
    )


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):  # refused by the body parser (e.g. a NUL character)
        return _domain(request, exc.__cause__)
    if exc.status_code == 400:
        return error(
            request, 400, "malformed_body", "请求体不是有效的 JSON (cannot parse request body)"
        )
    if exc.status_code == 403:  # django-ninja's only 403: the session-cookie CSRF check
        return error(request, 403, "csrf_failed", "CSRF 校验失败 (CSRF check failed)")
    return error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error(request, 413, "payload_too_large", "请求体过大 (request body too large)")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return error(request, 400, "bad_request", "请求无效 (bad request)")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", "未找到 (not found)")


@api.exception_handler(Exception)
def _bug(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled API error")
    return error(request, 500, "internal_error", "服务器内部错误 (internal error)")


def _register_routers() -> None:
    from ggzy.accounts.api import router as accounts_router
    from ggzy.award.api import router as award_router
    from ggzy.bidding.api import router as bidding_router
    from ggzy.bidding.api_deposits import router as deposits_router
    from ggzy.catalog.api import router as catalog_router
    from ggzy.complaints.api import router as complaints_router
    from ggzy.core.api import router as core_router
    from ggzy.disclosure.api import router as disclosure_router
    from ggzy.disclosure.api_search import router as search_router
    from ggzy.evaluation.api import router as evaluation_router
    from ggzy.exchange.api_ingest import router as ingest_router
    from ggzy.exchange.api_national import router as exchange_router
    from ggzy.exchange.api_ocds import router as ocds_router
    from ggzy.experts.api import router as experts_router
    from ggzy.fairness.api import router as fairness_router
    from ggzy.ledger.api import router as ledger_router
    from ggzy.registry.api import router as registry_router
    from ggzy.supervision.api import router as supervision_router
    from ggzy.tendering.api import router as tendering_router
    from ggzy.trust.api import router as trust_router
    from ggzy.trust.api_documents import router as trust_documents_router
    from ggzy.venues.api import router as venues_router

    api.add_router("/auth", accounts_router)
    api.add_router("/entities", registry_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("/trust", trust_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/trust", trust_documents_router)
    api.add_router("/tendering", tendering_router)
    api.add_router("/fairness", fairness_router)
    api.add_router("/bidding", deposits_router)
    api.add_router("/bidding", bidding_router)
    api.add_router("/experts", experts_router)
    api.add_router("/evaluation", evaluation_router)
    api.add_router("/venues", venues_router)
    api.add_router("/award", award_router)
    api.add_router("/ocds", ocds_router)
    api.add_router("/exchange", exchange_router)
    api.add_router("/exchange", ingest_router)
    api.add_router("/search", search_router)
    api.add_router("/disclosure", disclosure_router)
    api.add_router("/supervision", supervision_router)
    api.add_router("/complaints", complaints_router)
    api.add_router("/", core_router)


_register_routers()
