"""tests/test_limits.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_limits import *  # noqa: F403
