"""tests/test_referrals.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_referrals import *  # noqa: F403
