from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from das.selectors import areas_with_governance


def home(request: HttpRequest) -> HttpResponse:
    areas = areas_with_governance(day=timezone.localdate())
    return render(request, "das/home.html", {"areas": areas})
