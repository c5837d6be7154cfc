-- Every holder of the focus records' keys that are small enough to pair on.
CREATE OR REPLACE TEMP TABLE holders AS
SELECT o.rid, o.rule, o.key
FROM old_keys AS o
JOIN (SELECT h.rule, h.key FROM hsizes AS h JOIN wanted USING (rule, key) WHERE h.n <= h.cap) AS s
    USING (rule, key)
UNION ALL
SELECT rid, rule, key FROM old_touch
UNION ALL
SELECT rid, rule, key FROM new_keys
