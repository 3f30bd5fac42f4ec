"""The WSGI entry point (``gunicorn django_site.wsgi``): Django's own, not wrapped, since
trustproxy runs from MIDDLEWARE.  Wrapping it too would apply the headers twice: the
middleware would take the wrapper's client for its peer and add the prefix again."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")

application = get_wsgi_application()
