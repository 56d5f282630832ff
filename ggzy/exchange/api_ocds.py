"""OCDS API (``/api/v1/ocds``): the release package and the record package of one contracting
process (one section, ``ggzy.exchange.ocds``), for anyone. A malformed ocid is a 400
(``malformed_ocid``); an ocid that is unknown or not yet public a 404 (``ocid_not_found``) —
the same answer, so that the existence of an unpublished project stays secret."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from ninja import Router

from ggzy.api import PUBLIC
from ggzy.core.schemas import ErrorOut
from ggzy.exchange import ocds_packages as packages

router = Router(tags=["ocds"])
ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut}
MEDIA_TYPE = "application/json"


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _json(package: dict[str, Any]) -> HttpResponse:
    return HttpResponse(orjson.dumps(package), content_type=MEDIA_TYPE)


@router.get("/releases/{ocid}", response={200: dict[str, Any], **ERRORS}, auth=PUBLIC,
            summary="OCDS release package of one contracting process")  # fmt: skip
def release_package(request: HttpRequest, ocid: str) -> HttpResponse:
    process = packages.get_process(ocid)
    return _json(packages.process_release_package(process, base=_base(request)))


@router.get("/records/{ocid}", response={200: dict[str, Any], **ERRORS}, auth=PUBLIC,
            summary="OCDS record package (with the compiled release) of one contracting process")  # fmt: skip
def record_package(request: HttpRequest, ocid: str) -> HttpResponse:
    process = packages.get_process(ocid)
    return _json(packages.process_record_package(process, base=_base(request)))
