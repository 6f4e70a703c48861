"""tests/test_pgbouncer.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_pgbouncer import *  # noqa: F403
