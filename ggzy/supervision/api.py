"""Smart supervision API (``/api/v1/supervision``), for regulators, inspectors and auditors: the
alert inbox (list, one alert with its evidence and history; assign, annotate, dismiss with a
reason, escalate, reopen), the thresholds (read; regulators change them), the scan (run it
now), and historical data (upload a CSV or OCDS file, its report, the report as CSV).

Refusals, each in the one error shape: ``alert_not_found`` / ``dataset_not_found`` (404),
``alert_closed`` / ``alert_not_closed`` (409), ``bad_filter``, ``bad_assignee``, ``bad_target``,
``threshold_out_of_range``, ``bad_rows`` (the rows and their problems listed) (422)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.core.uploads import read_body
from ggzy.supervision import datasets, scan, selectors, services, thresholds, trail, watchlist
from ggzy.supervision.models import Alert, AlertNote, Dataset

router = Router(tags=["supervision"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}


class NoteOut(Schema):
    kind: str
    author: str | None
    text: str
    at: datetime


class AlertOut(Schema):
    public_id: str
    kind: str
    code: str
    rule: str
    title: str
    score: float | None
    status: str
    section: str | None
    project: str | None
    assignee: str | None
    raised_at: datetime
    refreshed_at: datetime
    closed_at: datetime | None
    outcome: str


class AlertDetailOut(AlertOut):
    evidence: dict[str, Any]
    notes: list[NoteOut]


class AlertPageOut(Schema):
    total: int
    page: int
    counts: dict[str, int]
    alerts: list[AlertOut]


class AlertFilters(Schema):
    status: str = Field("", max_length=16)
    kind: str = Field("", max_length=16)
    section: str = Field("", max_length=32)
    mine: bool = False
    page: int = Field(1, ge=1, le=100_000)


class AssignIn(StrictSchema):
    assignee: str = Field(..., max_length=150)


class TextIn(StrictSchema):
    text: str = Field(..., max_length=services.MAX_TEXT)


class ReasonIn(StrictSchema):
    reason: str = Field(..., max_length=services.MAX_TEXT)


class EscalateIn(StrictSchema):
    target: str = Field(..., max_length=16)
    text: str = Field(..., max_length=services.MAX_TEXT)


class SettingOut(Schema):
    name: str
    description: str
    values: dict[str, Any]
    defaults: dict[str, Any]
    version: int
    updated_at: datetime | None


class SettingIn(StrictSchema):
    values: dict[str, Any]


class ScanOut(Schema):
    events: int
    sections: int
    raised: int
    refreshed: int


class DatasetOut(Schema):
    public_id: str
    name: str
    source_format: str
    file_name: str
    file_sha256: str
    uploaded_at: datetime
    rows: int
    tenders: int
    bidders: int
    skipped: int
    summary: dict[str, Any]


class DatasetUploadQuery(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    format: str = Field("csv", max_length=8)
    skip_bad_rows: bool = False


class ReportQuery(Schema):
    part: str = Field("tenders", max_length=16)


class ProjectOut(Schema):
    public_id: str
    name: str
    status: str
    tenderer: str
    category: str
    region: str
    tracking: bool


class ProjectQuery(Schema):
    q: str = Field("", max_length=100)
    page: int = Field(1, ge=1, le=100_000)


class TrailEventOut(Schema):
    seq: int
    time: datetime
    event_type: str
    subject: str
    actor: str


class TrailOut(Schema):
    project: ProjectOut
    events: list[TrailEventOut]
    next_after: int | None


class TrailQuery(Schema):
    after: int = Field(0, ge=0, le=2**63 - 1)  # a ledger seq: PostgreSQL's bigint
    limit: int = Field(trail.PAGE, ge=1, le=1000)


class FollowedOut(Schema):
    project: ProjectOut
    new_count: int
    new: list[TrailEventOut]


class WatchOut(Schema):
    public_id: str
    kind: str
    value: str
    reason: str
    active: bool
    added_by: str
    added_at: datetime
    removed_at: datetime | None


class WatchIn(StrictSchema):
    kind: str = Field(..., max_length=16)
    value: str = Field(..., max_length=200)
    reason: str = Field(..., max_length=500)


def watch_out(w: Any) -> dict[str, Any]:
    return {"public_id": w.public_id, "kind": w.kind, "value": w.value, "reason": w.reason,
            "active": w.active, "added_by": w.added_by.get_username(), "added_at": w.added_at,
            "removed_at": w.removed_at}  # fmt: skip


def project_out(actor: Any, p: Any, tracked: set[int] | None = None) -> dict[str, Any]:
    """``tracked``: the ids of the projects the actor follows, when a list has read them."""
    following = p.pk in tracked if tracked is not None else trail.is_tracking(actor, p)
    return {"public_id": p.public_id, "name": p.name, "status": p.status,
            "tenderer": p.tenderer.name, "category": p.category.name, "region": p.region.name,
            "tracking": following}  # fmt: skip


def event_out(e: Any) -> dict[str, Any]:
    return {"seq": e.seq, "time": e.recorded_at, "event_type": e.event_type,
            "subject": e.subject, "actor": e.actor}  # fmt: skip


def alert_out(a: Alert) -> dict[str, Any]:
    section = a.section
    return {
        "public_id": a.public_id, "kind": a.kind, "code": a.code, "rule": a.rule,
        "title": a.title, "score": a.score, "status": a.status,
        "section": section.public_id if section else None,
        "project": section.project.public_id if section else None,
        "assignee": a.assignee.get_username() if a.assignee else None,
        "raised_at": a.raised_at, "refreshed_at": a.refreshed_at, "closed_at": a.closed_at,
        "outcome": a.outcome,
    }  # fmt: skip


def note_out(n: AlertNote) -> dict[str, Any]:
    return {"kind": n.kind, "author": n.author.get_username() if n.author else None,
            "text": n.text, "at": n.at}  # fmt: skip


def detail_out(a: Alert) -> dict[str, Any]:
    return {**alert_out(a), "evidence": a.evidence,
            "notes": [note_out(n) for n in selectors.notes(a)]}  # fmt: skip


def dataset_out(d: Dataset) -> dict[str, Any]:
    return {
        "public_id": d.public_id, "name": d.name, "source_format": d.source_format,
        "file_name": d.file_name, "file_sha256": d.file_sha256, "uploaded_at": d.uploaded_at,
        "rows": d.rows, "tenders": d.tenders, "bidders": d.bidders, "skipped": len(d.skipped),
        "summary": d.summary,
    }  # fmt: skip


# --- alerts -------------------------------------------------------------------------------------


@router.get("/alerts", response={200: AlertPageOut, **ERRORS})
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> Any:
    """The inbox, newest first, 50 a page; ``status=active`` is open and assigned together."""
    actor = request.auth  # type: ignore[attr-defined]
    rows = selectors.alerts(actor, status=filters.status, kind=filters.kind,
                            section=filters.section, mine=filters.mine)  # fmt: skip
    start = (filters.page - 1) * selectors.PAGE
    return {"total": rows.count(), "page": filters.page, "counts": selectors.counts(actor),
            "alerts": [alert_out(a) for a in rows[start:start + selectors.PAGE]]}  # fmt: skip


@router.get("/alerts/{alert_id}", response={200: AlertDetailOut, **ERRORS})
def get_alert(request: HttpRequest, alert_id: str) -> Any:
    return detail_out(selectors.get_alert(request.auth, alert_id))  # type: ignore[attr-defined]


@router.post("/alerts/{alert_id}/assign", response={200: AlertDetailOut, **ERRORS})
def assign(request: HttpRequest, alert_id: str, payload: AssignIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    alert = services.assign(actor=actor, alert=selectors.get_alert(actor, alert_id),
                            assignee=services.assignee_by_username(actor, payload.assignee))  # fmt: skip
    return detail_out(selectors.get_alert(actor, alert.public_id))


@router.post("/alerts/{alert_id}/notes", response={201: AlertDetailOut, **ERRORS})
def annotate(request: HttpRequest, alert_id: str, payload: TextIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    alert = selectors.get_alert(actor, alert_id)
    services.annotate(actor=actor, alert=alert, text=payload.text)
    return Status(201, detail_out(selectors.get_alert(actor, alert_id)))


@router.post("/alerts/{alert_id}/dismiss", response={200: AlertDetailOut, **ERRORS})
def dismiss(request: HttpRequest, alert_id: str, payload: ReasonIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    services.dismiss(actor=actor, alert=selectors.get_alert(actor, alert_id), reason=payload.reason)
    return detail_out(selectors.get_alert(actor, alert_id))


@router.post("/alerts/{alert_id}/escalate", response={200: AlertDetailOut, **ERRORS})
def escalate(request: HttpRequest, alert_id: str, payload: EscalateIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    services.escalate(actor=actor, alert=selectors.get_alert(actor, alert_id),
                      target=payload.target, text=payload.text)  # fmt: skip
    return detail_out(selectors.get_alert(actor, alert_id))


@router.post("/alerts/{alert_id}/reopen", response={200: AlertDetailOut, **ERRORS})
def reopen(request: HttpRequest, alert_id: str, payload: ReasonIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    services.reopen(actor=actor, alert=selectors.get_alert(actor, alert_id), reason=payload.reason)
    return detail_out(selectors.get_alert(actor, alert_id))


# --- thresholds and the scan --------------------------------------------------------------------


@router.get("/settings", response={200: list[SettingOut], **ERRORS})
def list_settings(request: HttpRequest) -> Any:
    """Every group of thresholds: the values in force, the defaults, the version."""
    return thresholds.describe(request.auth)  # type: ignore[attr-defined]


@router.put("/settings/{name}", response={200: SettingOut, **ERRORS})
def put_setting(request: HttpRequest, name: str, payload: SettingIn) -> Any:
    """A regulator sets a group's thresholds (the whole group; omitted ones take the default).
    Out-of-range values are refused with ``threshold_out_of_range``, naming the value."""
    actor = request.auth  # type: ignore[attr-defined]
    services.update_setting(actor=actor, name=name, value=payload.values)
    return next(s for s in thresholds.describe(actor) if s["name"] == name)


@router.post("/scan", response={200: ScanOut, **ERRORS})
def run_scan(request: HttpRequest) -> Any:
    """Run the scan now over everything new in the ledger (the nightly pass is the CLI's
    ``ggzy supervision scan --all``)."""
    out = scan.catch_up(actor=request.auth)  # type: ignore[attr-defined]
    return {"events": out.events, "sections": out.sections, "raised": out.raised,
            "refreshed": out.refreshed}  # fmt: skip


# --- historical data ----------------------------------------------------------------------------


@router.post("/datasets", response={201: DatasetOut, **ERRORS})
def upload_dataset(request: HttpRequest, query: Query[DatasetUploadQuery]) -> Any:
    """A historical data file as the raw body: ``text/csv`` (the documented layout) or
    ``application/x-ndjson`` (OCDS releases or records with the bids extension, one a line).
    A file with bad rows is refused whole (``bad_rows``, each row's problem listed) unless
    ``skip_bad_rows=true``; then the report is computed and kept."""
    body = read_body(request, accepted=datasets.CONTENT_TYPES,
                     limit=settings.GGZY_SUPERVISION_MAX_BYTES,
                     what="历史数据文件 (text/csv, application/x-ndjson)")  # fmt: skip
    row = datasets.import_dataset(actor=request.auth, name=query.name,  # type: ignore[attr-defined]
                                  source_format=query.format, data=body,
                                  file_name=request.headers.get("X-File-Name", ""),
                                  skip_bad_rows=query.skip_bad_rows)  # fmt: skip
    return Status(201, dataset_out(row))


@router.get("/datasets", response={200: list[DatasetOut], **ERRORS})
def list_datasets(request: HttpRequest) -> Any:
    return [dataset_out(d) for d in selectors.datasets(request.auth)[:200]]  # type: ignore[attr-defined]


@router.get("/datasets/{dataset_id}", response={200: DatasetOut, **ERRORS})
def get_dataset(request: HttpRequest, dataset_id: str) -> Any:
    return dataset_out(selectors.get_dataset(request.auth, dataset_id))  # type: ignore[attr-defined]


@router.get("/datasets/{dataset_id}/report.csv", response={200: Any, **ERRORS})
def report_csv(request: HttpRequest, dataset_id: str, query: Query[ReportQuery]) -> Any:
    """One part of the report as CSV (UTF-8 with BOM, for spreadsheet programs):
    ``tenders`` (screens, risk and red flags per tender), ``flags`` (one row per red flag),
    ``groups`` (co-bidding groups), ``members`` (each group's members)."""
    row = selectors.get_dataset(request.auth, dataset_id)  # type: ignore[attr-defined]
    content = datasets.report_csv(row, query.part)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{row.public_id}-{query.part}.csv"'
    return response


# --- the supervision channel --------------------------------------------------------------------


@router.get("/projects", response={200: list[ProjectOut], **ERRORS})
def list_projects(request: HttpRequest, query: Query[ProjectQuery]) -> Any:
    """Every project whatever its state (100 a page), ``q`` matching the name or the id."""
    actor = request.auth  # type: ignore[attr-defined]
    start = (query.page - 1) * 100
    tracked = trail.tracked_ids(actor)
    rows = trail.projects(actor, q=query.q)[start : start + 100]
    return [project_out(actor, p, tracked) for p in rows]


@router.get("/projects/{public_id}/trail", response={200: TrailOut, **ERRORS})
def project_trail(request: HttpRequest, public_id: str, query: Query[TrailQuery]) -> Any:
    """The project's full ledger trail after ``after`` (its sections, sessions, draws, deposits,
    bids once opened, alerts), oldest first."""
    actor = request.auth  # type: ignore[attr-defined]
    project = trail.get_project(actor, public_id)
    events = trail.trail(actor, project, after=query.after, limit=query.limit)
    return {"project": project_out(actor, project), "events": [event_out(e) for e in events],
            "next_after": events[-1].seq if len(events) == query.limit else None}  # fmt: skip


@router.post("/projects/{public_id}/track", response={200: ProjectOut, **ERRORS})
def track(request: HttpRequest, public_id: str) -> Any:
    """Follow a key project: its new events show in ``/tracking`` until marked seen."""
    actor = request.auth  # type: ignore[attr-defined]
    project = trail.get_project(actor, public_id)
    trail.track(actor=actor, project=project)
    return project_out(actor, project)


@router.delete("/projects/{public_id}/track", response={200: ProjectOut, **ERRORS})
def untrack(request: HttpRequest, public_id: str) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    project = trail.get_project(actor, public_id)
    trail.untrack(actor=actor, project=project)
    return project_out(actor, project)


@router.get("/tracking", response={200: list[FollowedOut], **ERRORS})
def followed(request: HttpRequest) -> Any:
    """The caller's followed projects with their new events."""
    actor = request.auth  # type: ignore[attr-defined]
    return [{"project": project_out(actor, f["project"], {f["project"].pk}),
             "new_count": f["new_count"],
             "new": [event_out(e) for e in f["new"]]} for f in trail.followed(actor)]  # fmt: skip


@router.post("/projects/{public_id}/seen", response={200: ProjectOut, **ERRORS})
def seen(request: HttpRequest, public_id: str) -> Any:
    """Mark a followed project's events seen."""
    actor = request.auth  # type: ignore[attr-defined]
    project = trail.get_project(actor, public_id)
    trail.mark_seen(actor=actor, project=project)
    return project_out(actor, project)


# --- the watchlist ------------------------------------------------------------------------------


@router.get("/watchlist", response={200: list[WatchOut], **ERRORS})
def list_watchlist(request: HttpRequest) -> Any:
    """The active entries of the watchlist (重点关注名单)."""
    return [watch_out(w) for w in watchlist.entries(request.auth)]  # type: ignore[attr-defined]


@router.post("/watchlist", response={201: WatchOut, **ERRORS})
def add_watch(request: HttpRequest, payload: WatchIn) -> Any:
    """Add an entry: ``kind`` entity | person | phone | email | account | ip | entity_name |
    person_name, the ``value`` and the ``reason``; a listed subject signing in, bidding or sitting
    on a committee raises an alert."""
    row = watchlist.add(actor=request.auth, kind=payload.kind, value=payload.value,  # type: ignore[attr-defined]
                        reason=payload.reason)  # fmt: skip
    return Status(201, watch_out(row))


@router.delete("/watchlist/{entry_id}", response={200: WatchOut, **ERRORS})
def remove_watch(request: HttpRequest, entry_id: str) -> Any:
    """Take an entry off the list (it is kept, inactive)."""
    return watch_out(watchlist.remove(actor=request.auth, public_id=entry_id))  # type: ignore[attr-defined]
