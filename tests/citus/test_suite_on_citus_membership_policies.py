"""tests/test_membership_policies.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_membership_policies import *  # noqa: F403
