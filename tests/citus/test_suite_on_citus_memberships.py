"""tests/test_memberships.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_memberships import *  # noqa: F403
