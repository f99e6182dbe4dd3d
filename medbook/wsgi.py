"""WSGI entry point for gunicorn: ``gunicorn medbook.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")

application = get_wsgi_application()
