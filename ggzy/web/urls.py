from django.urls import path

from ggzy.web.views import accounts, catalog, entities, ledger, portal, search, trust
from ggzy.web.views import award as award_pages
from ggzy.web.views import bidding as bidding_pages
from ggzy.web.views import complaints as complaint_pages
from ggzy.web.views import deposits as deposit_pages
from ggzy.web.views import disclosure as disclosure_pages
from ggzy.web.views import evaluation as evaluation_pages
from ggzy.web.views import expert_draws as draw_pages
from ggzy.web.views import experts as expert_pages
from ggzy.web.views import fairness as fairness_pages
from ggzy.web.views import supervision as supervision_pages
from ggzy.web.views import tendering as tendering_pages
from ggzy.web.views import venues as venue_pages

app_name = "web"

urlpatterns = [
    path("", portal.home, name="home"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("signup/", accounts.signup, name="signup"),
    path("me/", accounts.me, name="me"),
    path("me/tokens/", accounts.issue_token, name="token_issue"),
    path("me/tokens/<int:token_id>/revoke/", accounts.revoke_token, name="token_revoke"),
    path("entities/", entities.directory, name="entities"),
    path("entities/register/", entities.register, name="entity_register"),
    path("entities/<str:uscc>/", entities.profile, name="entity"),
    path("entities/<str:uscc>/edit/", entities.edit, name="entity_edit"),
    path(
        "entities/<str:uscc>/qualifications/",
        entities.add_qualification,
        name="entity_qualification_add",
    ),
    path(
        "entities/<str:uscc>/qualifications/<int:qualification_id>/remove/",
        entities.remove_qualification,
        name="entity_qualification_remove",
    ),
    path("entities/<str:uscc>/members/", entities.add_member, name="entity_member_add"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("search/", search.search_page, name="search"),
    path("ledger/", ledger.index, name="ledger"),
    path("ledger/events/<int:seq>/", ledger.event, name="ledger_event"),
    path("trust/cas/", trust.authorities, name="trust_cas"),
    path("trust/signatures/<int:signature_id>/", trust.signature, name="trust_signature"),
    path("trust/sign-requests/new/", trust.new_sign_request, name="sign_request_new"),
    path("trust/sign-requests/<str:public_id>/", trust.sign_request, name="sign_request"),
    path(
        "trust/sign-requests/<str:public_id>/status/",
        trust.sign_request_status,
        name="sign_request_status",
    ),
    path("me/certificates/", trust.my_certificates, name="my_certificates"),
    # tendering: public pages, the tenderer's workspace, center intake
    path("projects/", tendering_pages.project_list, name="projects"),
    path(
        "projects/<str:public_id>/fairness/",
        fairness_pages.project_review,
        name="project_fairness",
    ),
    path("projects/<str:public_id>/", tendering_pages.project_page, name="project"),
    path(
        "projects/<str:public_id>/documents/<str:document_id>/",
        tendering_pages.download,
        name="document_download",
    ),
    path(
        "projects/<str:public_id>/objections/",
        tendering_pages.raise_objection,
        name="project_objection",
    ),
    path("workspace/projects/", tendering_pages.my_projects, name="my_projects"),
    path("workspace/projects/new/", tendering_pages.new_project, name="project_new"),
    path(
        "workspace/projects/<str:public_id>/",
        tendering_pages.workspace_project,
        name="workspace_project",
    ),
    path(
        "workspace/projects/<str:public_id>/edit/",
        tendering_pages.edit_project,
        name="project_edit",
    ),
    path(
        "workspace/projects/<str:public_id>/agency/confirm/",
        tendering_pages.confirm_agency,
        name="project_confirm_agency",
    ),
    path(
        "workspace/projects/<str:public_id>/submit/",
        tendering_pages.submit_project,
        name="project_submit",
    ),
    path(
        "workspace/projects/<str:public_id>/documents/",
        tendering_pages.upload_document,
        name="project_upload",
    ),
    path(
        "workspace/projects/<str:public_id>/publish/",
        tendering_pages.publish_project,
        name="project_publish",
    ),
    path(
        "workspace/projects/<str:public_id>/invitations/",
        tendering_pages.invite_bidders,
        name="project_invite",
    ),
    path(
        "workspace/projects/<str:public_id>/clarifications/",
        tendering_pages.issue_clarification,
        name="project_clarify",
    ),
    path(
        "workspace/projects/<str:public_id>/objections/<str:objection_id>/answer/",
        tendering_pages.answer_objection,
        name="project_objection_answer",
    ),
    path("staff/intake/", tendering_pages.intake_queue, name="intake"),
    path(
        "staff/intake/<str:public_id>/accept/", tendering_pages.accept_project, name="intake_accept"
    ),
    path(
        "staff/intake/<str:public_id>/return/", tendering_pages.return_project, name="intake_return"
    ),
    # bidding: the bidder's workspace and the center's opening desk
    path(
        "projects/<str:public_id>/sections/<str:section_id>/bid/",
        bidding_pages.submit_bid,
        name="bid_submit",
    ),
    path(
        "projects/<str:public_id>/sections/<str:section_id>/deposit/",
        bidding_pages.open_deposit,
        name="deposit_open",
    ),
    path("workspace/bids/", bidding_pages.my_bids, name="my_bids"),
    path("workspace/bids/<str:bid_id>/receipt/", bidding_pages.receipt, name="bid_receipt"),
    path("workspace/bids/<str:bid_id>/withdraw/", bidding_pages.withdraw, name="bid_withdraw"),
    path("workspace/bids/<str:bid_id>/opening/", bidding_pages.bidder_opening, name="bid_opening"),
    path(
        "workspace/bids/<str:bid_id>/opening/status/",
        bidding_pages.bidder_opening_status,
        name="bid_opening_status",
    ),
    path(
        "workspace/bids/<str:bid_id>/opening/objection/",
        bidding_pages.bidder_objection,
        name="bid_opening_objection",
    ),
    path("staff/openings/", bidding_pages.staff_openings, name="staff_openings"),
    path("staff/openings/<str:section_id>/", bidding_pages.opening_control, name="opening_control"),
    path(
        "staff/openings/<str:section_id>/status/",
        bidding_pages.opening_control_status,
        name="opening_control_status",
    ),
    path(
        "staff/openings/<str:section_id>/start/", bidding_pages.start_opening, name="opening_start"
    ),
    path(
        "staff/openings/<str:section_id>/close/", bidding_pages.close_opening, name="opening_close"
    ),
    path(
        "staff/openings/<str:section_id>/objections/<int:objection_id>/answer/",
        bidding_pages.answer_objection,
        name="opening_objection_answer",
    ),
    # deposits: the finance desk, a section's deposits for staff, the bidder's guarantee
    path("staff/deposits/", deposit_pages.desk, name="deposit_desk"),
    path("staff/deposits/import/", deposit_pages.import_notices, name="deposit_import"),
    path("staff/deposits/notices/", deposit_pages.record_notice, name="deposit_notice"),
    path(
        "staff/deposits/<int:deposit_id>/refunded/",
        deposit_pages.mark_refunded,
        name="deposit_refunded",
    ),
    path(
        "staff/sections/<str:section_id>/deposits/",
        deposit_pages.section_deposits,
        name="section_deposits",
    ),
    path(
        "workspace/deposits/<int:deposit_id>/guarantee/",
        deposit_pages.submit_guarantee,
        name="deposit_guarantee",
    ),
    # the expert pool: the expert's own record, the center's queue, pool, import and export
    path("experts/me/", expert_pages.my_record, name="expert_me"),
    path("experts/me/apply/", expert_pages.apply, name="expert_apply"),
    path("experts/me/unavailability/", expert_pages.add_period, name="expert_period_add"),
    path(
        "experts/me/unavailability/<int:period_id>/remove/",
        expert_pages.remove_period,
        name="expert_period_remove",
    ),
    path("experts/me/conflicts/", expert_pages.declare_conflict, name="expert_conflict_add"),
    path(
        "experts/me/conflicts/<int:conflict_id>/withdraw/",
        expert_pages.withdraw_conflict,
        name="expert_conflict_withdraw",
    ),
    # the expert draw: staff request and status (sealed until the session), the expert's own
    # invitations, the supervision's verification
    path("staff/draws/", draw_pages.draws, name="draws"),
    path("staff/draws/new/", draw_pages.request_draw, name="draw_request"),
    path("staff/draws/<str:public_id>/", draw_pages.draw, name="draw"),
    path("staff/draws/<str:public_id>/reveal/", draw_pages.reveal, name="draw_reveal"),
    path("audit/draws/<str:public_id>/verify/", draw_pages.verify, name="draw_verify"),
    path("experts/me/invitations/", draw_pages.invitations, name="my_invitations"),
    path(
        "experts/me/invitations/<str:invitation_id>/confirm/",
        draw_pages.confirm,
        name="invitation_confirm",
    ),
    path(
        "experts/me/invitations/<str:invitation_id>/decline/",
        draw_pages.decline,
        name="invitation_decline",
    ),
    # rating a signed session's experts: the center's organizing desk and the section's tenderer
    path("experts/ratings/", expert_pages.rating_sessions, name="expert_rating_sessions"),
    path("evaluation/<str:public_id>/rate/", expert_pages.rate_session, name="expert_rate_session"),
    path(
        "evaluation/<str:public_id>/rate/<str:expert_id>/<str:kind>/",
        expert_pages.rate_expert,
        name="expert_rate",
    ),
    path("staff/experts/", expert_pages.pool, name="expert_pool"),
    path("staff/experts/queue/", expert_pages.queue, name="expert_queue"),
    path("staff/experts/import/", expert_pages.import_page, name="expert_import"),
    path(
        "staff/experts/import/report.xlsx", expert_pages.import_report, name="expert_import_report"
    ),
    path("staff/experts/export.xlsx", expert_pages.export, name="expert_export"),
    path("staff/experts/template.xlsx", expert_pages.template, name="expert_template"),
    path("staff/experts/<str:public_id>/", expert_pages.record, name="expert_record"),
    path("staff/experts/<str:public_id>/approve/", expert_pages.approve, name="expert_approve"),
    path("staff/experts/<str:public_id>/reject/", expert_pages.reject, name="expert_reject"),
    path(
        "staff/experts/<str:public_id>/<str:action>/",
        expert_pages.change_status,
        name="expert_status",
    ),
    # venues and remote evaluation: the calendar, bookings, sessions, the shared state, consoles
    path("venues/", venue_pages.calendar, name="venue_calendar"),
    path("venues/book/", venue_pages.book, name="venue_book"),
    path("venues/bookings/<str:booking_id>/", venue_pages.booking, name="venue_booking"),
    path(
        "venues/bookings/<str:booking_id>/confirm/",
        venue_pages.booking_confirm,
        name="venue_booking_confirm",
    ),
    path(
        "venues/bookings/<str:booking_id>/release/",
        venue_pages.booking_release,
        name="venue_booking_release",
    ),
    path(
        "venues/bookings/<str:booking_id>/experts/",
        venue_pages.booking_assign,
        name="venue_booking_assign",
    ),
    path(
        "venues/bookings/<str:booking_id>/experts/<str:expert_id>/remove/",
        venue_pages.booking_unassign,
        name="venue_booking_unassign",
    ),
    path("venues/sessions/", venue_pages.session_list, name="venue_sessions"),
    path("venues/sessions/new/", venue_pages.session_create, name="venue_session_create"),
    path(
        "venues/sessions/<str:session_id>/",
        venue_pages.session_state,
        name="venue_session_state",
    ),
    path(
        "venues/sessions/<str:session_id>/layout/",
        venue_pages.session_layout,
        name="venue_session_layout",
    ),
    path(
        "venues/sessions/<str:session_id>/venues/",
        venue_pages.session_add_venue,
        name="venue_session_add_venue",
    ),
    path(
        "venues/sessions/<str:session_id>/venues/<str:booking_id>/remove/",
        venue_pages.session_remove_venue,
        name="venue_session_remove_venue",
    ),
    path(
        "venues/sessions/<str:session_id>/venues/<str:booking_id>/witness/",
        venue_pages.session_witness,
        name="venue_session_witness",
    ),
    path(
        "venues/sessions/<str:session_id>/venues/<str:booking_id>/console/",
        venue_pages.witness_console,
        name="venue_witness_console",
    ),
    path(
        "venues/sessions/<str:session_id>/venues/<str:booking_id>/events/",
        venue_pages.witness_record,
        name="venue_witness_record",
    ),
]
urlpatterns += evaluation_pages.URLS
urlpatterns += award_pages.URLS
urlpatterns += disclosure_pages.URLS
urlpatterns.append(path("disclosure/systems/", disclosure_pages.systems, name="disclosure_systems"))
urlpatterns += supervision_pages.URLS
urlpatterns += complaint_pages.URLS
