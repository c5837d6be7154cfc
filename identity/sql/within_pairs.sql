-- Candidate pairs with both records among the focus records (the clusters being rebuilt).
WITH k AS (
    SELECT b.rid, b.rule, b.key
    FROM block_keys AS b
    JOIN block_sizes AS s ON s.rule = b.rule AND s.key = b.key
    JOIN focus AS f ON f.rid = b.rid
    WHERE s.n BETWEEN 2 AND s.cap
)
SELECT l.rid AS rid_l, r.rid AS rid_r, bit_or(1::INTEGER << l.rule)::INTEGER AS rules
FROM k AS l
JOIN k AS r ON l.rule = r.rule AND l.key = r.key AND l.rid < r.rid
GROUP BY l.rid, r.rid
