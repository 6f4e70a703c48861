"""tests/test_audit_seal.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py),
but for its `kizuna audit` command test, which makes a database of its own on one server."""

from kizuna.tests.test_audit_seal import *  # noqa: F403

del test_kizuna_audit_verify_on_demo_data_and_a_tampered_event  # noqa: F821
# The verifier's logic (tampering, gaps, arguments) is the same on any database and runs on
# PostgreSQL; on Citus, sealing, commit order, a second sealer and the background sealer.
del test_tampering_by_a_superuser_is_caught_at_its_first_broken_link  # noqa: F821
del test_events_not_sealed_yet_are_no_break, test_sealing_continues_from_the_head_so_a_deletion_stays_visible  # noqa: F821
del test_kizuna_audit_refuses_a_malformed_municipality  # noqa: F821
