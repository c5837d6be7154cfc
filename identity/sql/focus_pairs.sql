-- Candidate pairs touching the focus records (a new batch, records whose guards changed).
WITH k AS (
    SELECT b.rid, b.rule, b.key
    FROM block_keys AS b
    JOIN block_sizes AS s ON s.rule = b.rule AND s.key = b.key
    WHERE s.n BETWEEN 2 AND s.cap
),
f AS (SELECT k.* FROM k JOIN focus USING (rid))
SELECT
    least(f.rid, o.rid)::UINTEGER AS rid_l,
    greatest(f.rid, o.rid)::UINTEGER AS rid_r,
    bit_or(1::INTEGER << f.rule)::INTEGER AS rules
FROM f
JOIN k AS o ON f.rule = o.rule AND f.key = o.key AND f.rid <> o.rid
GROUP BY 1, 2
