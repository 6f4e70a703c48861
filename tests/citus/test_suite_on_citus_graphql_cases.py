"""tests/test_graphql_cases.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_graphql_cases import *  # noqa: F403
