"""The peer's URLs: the survey app under /survey/."""

from django.urls import include, path

urlpatterns = [path("survey/", include("survey.urls"))]
