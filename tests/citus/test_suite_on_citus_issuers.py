"""tests/test_issuers.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_issuers import *  # noqa: F403
