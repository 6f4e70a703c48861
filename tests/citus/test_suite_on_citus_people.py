"""tests/test_people.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_people import *  # noqa: F403

# Checks of input, wording and the rules' logic, the same on any database, run once, on
# PostgreSQL; on Citus, what crosses tenants, the database's own rules and the statements.
del TestNames  # noqa: F821
