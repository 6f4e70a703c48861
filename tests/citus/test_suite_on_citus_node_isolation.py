"""tests/test_node_isolation.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_node_isolation import *  # noqa: F403
