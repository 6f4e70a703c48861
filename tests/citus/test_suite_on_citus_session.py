"""tests/test_session.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_session import *  # noqa: F403
