from django.contrib import admin
from django.urls import include, path

from ggzy.api import api

admin.site.site_header = "OpenGGZY 交易中心后台"
admin.site.site_title = "OpenGGZY"

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("ggzy.web.urls")),
]

handler404 = "ggzy.web.views.not_found"
handler500 = "ggzy.web.views.server_error"
