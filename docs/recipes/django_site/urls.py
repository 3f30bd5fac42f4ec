from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "remote_addr": request.META["REMOTE_ADDR"],
            "host": request.get_host(),
            "secure": request.is_secure(),
            "absolute": request.build_absolute_uri(),
            "reverse": reverse("whoami"),
        }
    )


urlpatterns = [path("", whoami, name="whoami")]
