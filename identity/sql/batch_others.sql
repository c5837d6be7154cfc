-- Every holder of the focus records' keys that are small enough to pair on.
CREATE OR REPLACE TEMP TABLE holders AS
SELECT o.rid, o.rule, o.kid
FROM old_keys AS o
JOIN (SELECT h.kid FROM hsizes AS h JOIN wanted AS w ON w.kid = h.kid WHERE h.n <= h.cap) AS s
    ON s.kid = o.kid
UNION ALL
SELECT rid, rule, kid FROM old_touch
UNION ALL
SELECT rid, rule, kid FROM new_keys
