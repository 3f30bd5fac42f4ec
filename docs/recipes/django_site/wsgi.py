"""Wrapping Django's WSGI application (instead of the MIDDLEWARE entry: use one)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from trustproxy import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")

application = WSGIMiddleware(
    get_wsgi_application(), trusted="loopback", fields=("for", "proto", "host", "prefix")
)
