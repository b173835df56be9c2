"""The test suite's fixtures, one module per concern, loaded as pytest plugins by the
root conftest.py (`pytest_plugins`):

- `smtp`: a real SMTP server (aiosmtpd) that Django sends to.
- `worker`: a real Celery worker process on a Redis broker of its own.
- `browser`: Chromium through Playwright against the live server.
- `embedded`: a real `manage.py runserver` on the embedded (local) settings, as
  `make run` serves the portal.

They import pytest and are imported by tests only, never by the portal.
"""
