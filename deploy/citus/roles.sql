-- The app roles log in on Citus (DESIGN section 8; docs/scale-out.md, "Roles").
--
-- The coordinator opens its connections to the workers as the role that runs the query,
-- so each role `kizuna.begin_request` and `kizuna.begin_sign_in` switch to must be able to
-- log in on the workers. Run on the coordinator as the administrative role after every
-- `kizuna db upgrade` of any database of the cluster: Citus propagates ALTER ROLE to the
-- workers, and migrations 0002 and 0004 set these roles NOLOGIN again (cluster-wide) when
-- they run in a new database. pg_hba.conf keeps them from logging in from anywhere else:
-- the coordinator rejects them, the workers accept them only from the coordinator.

ALTER ROLE kizuna_caseworker LOGIN;
ALTER ROLE kizuna_supervisor LOGIN;
ALTER ROLE kizuna_coordinator LOGIN;
ALTER ROLE kizuna_school_staff LOGIN;
ALTER ROLE kizuna_school_social_worker LOGIN;
ALTER ROLE kizuna_welfare_worker LOGIN;
ALTER ROLE kizuna_municipal_system LOGIN;
ALTER ROLE kizuna_prefecture_analyst LOGIN;
ALTER ROLE kizuna_platform_admin LOGIN;
ALTER ROLE kizuna_directory LOGIN;
-- The audit sealer (migration 0014): the administrative connection switches to it, and the
-- coordinator then reaches the shards of the audit log as it.
ALTER ROLE kizuna_auditor LOGIN;
