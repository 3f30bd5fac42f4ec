"""Wrapping Django's WSGI application, instead of the MIDDLEWARE entry: with settings
that do not load TrustProxyMiddleware (settings_wrapped.py), or it would run twice."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from trustproxy import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings_wrapped")

application = WSGIMiddleware(
    get_wsgi_application(), trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix")
)
