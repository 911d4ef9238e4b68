"""Settings for the test suite: the real settings, with a throwaway secret and fast hashing."""
import os

# Long enough for the production guard of settings.py (DEBUG is off in CI); used by the test suite only.
os.environ.setdefault("SECRET_KEY", "tests-only:Vq3xW9rTz2LpK7mN4bHc8JdF6gYs1aE5uQoR0iXvZtMwBn")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks in-process unless a test starts a real worker (tests/test_celery_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
# Tests that publish runs do not build PDFs as a side effect; the report tests build them directly.
REPORTS_BUILD_ON_PUBLISH = False
# Logins in the tests use the password alone; the second-factor tests switch this on.
OTP_REQUIRED = False
# The test client and the live server speak plain HTTP, whatever DEBUG the environment sets (production redirects).
SECURE_SSL_REDIRECT = False
# The suite makes many API requests from one address within a minute; tests/api/test_tokens.py checks the limits.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/min", "user": "100000/min"}  # noqa: F405
