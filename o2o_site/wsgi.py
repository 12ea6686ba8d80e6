"""
WSGI config for o2o_site project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o_site.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: the settings that must not be forgotten (a published
# SECRET_KEY, no shared cache) stop the web server here, before it serves anything.
from o2o_site.checks import refuse_to_start_on_errors  # noqa: E402 (needs the apps loaded above)

refuse_to_start_on_errors()
