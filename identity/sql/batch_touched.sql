-- The blocking keys the new records hold: how many new and old holders each has, and the old
-- holders of those that are (or were) small enough to pair on. Counting first keeps the big
-- blocks (a common surname) out of memory: only their sizes are needed.
CREATE OR REPLACE TEMP TABLE touched AS
WITH t AS (SELECT rule, key, any_value(cap) AS cap, count(*) AS added FROM new_keys GROUP BY ALL),
o AS (SELECT o.rule, o.key, count(*) AS n FROM old_keys AS o JOIN t USING (rule, key) GROUP BY ALL)
SELECT t.rule, t.key, t.cap, t.added, coalesce(o.n, 0) AS old_n
FROM t LEFT JOIN o USING (rule, key);
CREATE OR REPLACE TEMP TABLE old_touch AS
SELECT o.rid, o.rule, o.key
FROM old_keys AS o
JOIN (SELECT rule, key FROM touched WHERE old_n <= cap) AS t USING (rule, key)
