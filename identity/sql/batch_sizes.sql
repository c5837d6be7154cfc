-- The keys of the ``focus`` records (``old_fkeys``: their stored ones) and the size of each
-- (old and new holders, with repeats as a full run counts them).
CREATE OR REPLACE TEMP TABLE fkeys AS
SELECT rid, rule, cap, kid FROM old_fkeys
UNION ALL
SELECT n.rid, n.rule, n.cap, n.kid FROM new_keys AS n JOIN focus AS f ON f.rid = n.rid;
CREATE OR REPLACE TEMP TABLE wanted AS
SELECT DISTINCT k.kid, k.cap
FROM fkeys AS k
WHERE NOT EXISTS (SELECT 1 FROM touched AS t WHERE t.kid = k.kid);
CREATE OR REPLACE TEMP TABLE hsizes AS
SELECT w.kid, w.cap, s.n
FROM wanted AS w JOIN old_sizes AS s ON s.kid = w.kid
UNION ALL
SELECT kid, cap, old_n + added AS n FROM touched
