"""tests/test_helper_dispatch.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_helper_dispatch import *  # noqa: F403
