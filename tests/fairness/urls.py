"""The site's URLs plus the fairness page (until ggzy/web/urls.py carries it)."""

from django.urls import path

from ggzy.urls import urlpatterns as site
from ggzy.web.views.fairness import project_review

urlpatterns = [
    path("projects/<str:public_id>/fairness/", project_review, name="fairness_review"),
    *site,
]
