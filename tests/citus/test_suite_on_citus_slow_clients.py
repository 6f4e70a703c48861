"""tests/test_slow_clients.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_slow_clients import *  # noqa: F403
