"""tests/test_http.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_http import *  # noqa: F403
