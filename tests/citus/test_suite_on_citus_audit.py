"""tests/test_audit.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_audit import *  # noqa: F403
