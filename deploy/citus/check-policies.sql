-- Every shard placement of every Citus table in the kizuna schema carries exactly the
-- coordinator's row-security policies: name, command, permissive or not, roles, and both
-- expressions. Run on the coordinator as the administrative role after the distribution,
-- after adding a worker or rebalancing, and after every `kizuna db upgrade`. No rows: they
-- all arrived intact. A row names a placement that differs (or could not be read).
-- (docs/scale-out.md, finding 1: Citus once dropped AS RESTRICTIVE on the shards.)

WITH coordinator AS (
    SELECT p.logicalrelid AS table_name,
           (SELECT coalesce(string_agg(
                       polname || ' ' || polcmd::text || ' ' || polpermissive::text || ' '
                       || array_to_string(ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                                                FROM unnest(polroles) r ORDER BY 1), ',')
                       || ' USING ' || coalesce(pg_get_expr(polqual, polrelid), '-')
                       || ' CHECK ' || coalesce(pg_get_expr(polwithcheck, polrelid), '-'),
                       E'\n' ORDER BY polname), '')
              FROM pg_policy WHERE polrelid = p.logicalrelid) AS policies
    FROM pg_dist_partition p
    WHERE p.logicalrelid::text LIKE 'kizuna.%'
)
SELECT c.table_name, placement.shardid, placement.nodename, placement.nodeport, placement.success
FROM coordinator c,
     LATERAL run_command_on_placements(c.table_name, $shard$
         SELECT coalesce(string_agg(
                    polname || ' ' || polcmd::text || ' ' || polpermissive::text || ' '
                    || array_to_string(ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                                             FROM unnest(polroles) r ORDER BY 1), ',')
                    || ' USING ' || coalesce(pg_get_expr(polqual, polrelid), '-')
                    || ' CHECK ' || coalesce(pg_get_expr(polwithcheck, polrelid), '-'),
                    E'\n' ORDER BY polname), '')
           FROM pg_policy WHERE polrelid = '%s'::regclass
     $shard$) AS placement
WHERE NOT placement.success OR placement.result <> c.policies
ORDER BY 1, 2;
