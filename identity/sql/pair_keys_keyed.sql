-- pair_keys (see pair_keys.sql) from the numbered keys of key_ids.sql.
CREATE OR REPLACE TEMP TABLE pair_keys AS
SELECT rid, rule, kid
FROM keyed
WHERE n BETWEEN 2 AND cap
