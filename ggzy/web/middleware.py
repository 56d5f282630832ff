"""Keeps the one error shape on every ``/api/`` answer, including Django's own 404/405/400."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
_MESSAGES = {
    400: "请求无效 (bad request)",
    401: "请先登录 (authentication required)",
    403: "无权访问 (forbidden)",
    404: "未找到 (not found)",
    405: "不支持该请求方法 (method not allowed)",
    413: "请求体过大 (request body too large)",
    415: "不支持的内容类型 (unsupported media type)",
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and 400 <= response.status_code < 600
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            shaped = JsonResponse(
                {
                    "code": _CODES.get(status, "error"),
                    "message": _MESSAGES.get(status, "错误 (error)"),
                    "detail": None,
                },
                status=status,
            )
            if status == 405 and response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the person chose another language with the switch.

    Django's ``LocaleMiddleware`` follows the browser's Accept-Language; a public platform of a
    Chinese trading center speaks Chinese first and offers English on request (the language
    cookie set by ``/i18n/setlang/``).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class RefuseNulPathMiddleware:
    """A path with a NUL character names nothing: 404 at once, before any lookup — PostgreSQL
    cannot even compare such a string (it would raise, a 500)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return HttpResponse("未找到 (not found)", status=404, content_type="text/plain")
        return self.get_response(request)
