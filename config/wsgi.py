"""WSGI entry point, for `manage.py runserver` and WSGI tools. The web process serves
config.asgi instead (see gunicorn.conf.py): under WSGI a slow upload holds a thread."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
