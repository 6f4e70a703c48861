"""tests/test_isolation_property.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_isolation_property import *  # noqa: F403
