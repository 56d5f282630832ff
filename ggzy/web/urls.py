from django.urls import path

from ggzy.web.views import accounts, catalog, entities, ledger, portal, trust

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
]
