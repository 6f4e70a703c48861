"""tests/test_audit_seal.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py),
but for its `kizuna audit` command test, which makes a database of its own on one server."""

from kizuna.tests.test_audit_seal import *  # noqa: F403

del test_kizuna_audit_verify_on_demo_data_and_a_tampered_event  # noqa: F821
