"""The ASGI entry point (``uvicorn django_site.asgi:application --no-proxy-headers``):
Django's own, not wrapped, since trustproxy runs from MIDDLEWARE."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")

application = get_asgi_application()
