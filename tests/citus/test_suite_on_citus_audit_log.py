"""tests/test_audit_log.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_audit_log import *  # noqa: F403
