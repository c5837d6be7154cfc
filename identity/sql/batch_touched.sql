-- The blocking keys the new records hold: how many new and old holders each has. The stored
-- sizes keep the big blocks (a common surname) out of memory: only their sizes are needed. The
-- old holders of those small enough to pair on (``old_touch``) are picked from the stored keys
-- in Python (``identity.storedkeys``).
CREATE OR REPLACE TEMP TABLE touched AS
WITH t AS (
    SELECT kid, any_value(rule) AS rule, any_value(key) AS key, any_value(cap) AS cap,
        count(*) AS added
    FROM new_keys
    GROUP BY kid
),
o AS (SELECT s.kid, s.n FROM old_sizes AS s JOIN t ON t.kid = s.kid)
SELECT t.kid, t.rule, t.key, t.cap, t.added, coalesce(o.n, 0) AS old_n
FROM t LEFT JOIN o ON o.kid = t.kid
