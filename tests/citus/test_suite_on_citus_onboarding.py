"""tests/test_onboarding.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_onboarding import *  # noqa: F403
