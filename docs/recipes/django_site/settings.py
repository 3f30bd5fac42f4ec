"""A minimal Django project behind a proxy.  The trustproxy part is MIDDLEWARE and
TRUSTPROXY; the rest is what any project has.  wsgi.py and asgi.py stay Django's own:
trustproxy must run once (see wsgi_wrapped.py for the other way)."""

SECRET_KEY = "recipe-only-not-a-secret"
DEBUG = False
ROOT_URLCONF = "django_site.urls"
INSTALLED_APPS: list[str] = []
USE_TZ = True

# Django checks get_host() against this list: list the host names clients use, which
# reach Django through the proxy's X-Forwarded-Host.
ALLOWED_HOSTS = ["example.com", "testserver"]

MIDDLEWARE = [
    # First, so that every middleware after it sees the client.
    "trustproxy.django.TrustProxyMiddleware",
]
TRUSTPROXY = {
    # The address the proxy (nginx on this machine) connects from; not all of loopback,
    # which would let any local process name its own client.
    "trusted": ["127.0.0.1"],
    "fields": ["for", "proto", "host", "port", "prefix"],
}
