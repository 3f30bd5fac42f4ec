"""Settings for wsgi_wrapped.py and asgi_wrapped.py: the project's, without trustproxy in
MIDDLEWARE, because those wrap the application instead (one trustproxy, not two)."""

from django_site.settings import *  # noqa: F403

MIDDLEWARE = [entry for entry in MIDDLEWARE if not entry.startswith("trustproxy.")]  # noqa: F405
