-- The blocking keys the new records hold: how many new and old holders each has, and the old
-- holders of those that are (or were) small enough to pair on. The stored sizes keep the big
-- blocks (a common surname) out of memory: only their sizes are needed.
CREATE OR REPLACE TEMP TABLE touched AS
WITH t AS (
    SELECT kid, any_value(rule) AS rule, any_value(key) AS key, any_value(cap) AS cap,
        count(*) AS added
    FROM new_keys
    GROUP BY kid
),
o AS (SELECT s.kid, s.n FROM old_sizes AS s JOIN t ON t.kid = s.kid)
SELECT t.kid, t.rule, t.key, t.cap, t.added, coalesce(o.n, 0) AS old_n
FROM t LEFT JOIN o ON o.kid = t.kid;
CREATE OR REPLACE TEMP TABLE old_touch AS
SELECT o.rid, o.rule, o.kid
FROM old_keys AS o
JOIN (SELECT kid FROM touched WHERE old_n <= cap) AS t ON t.kid = o.kid
