"""Wrapping Django's ASGI application (instead of the MIDDLEWARE entry: use one)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from trustproxy import ASGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")

application = ASGIMiddleware(
    get_asgi_application(), trusted="loopback", fields=("for", "proto", "host", "prefix")
)
