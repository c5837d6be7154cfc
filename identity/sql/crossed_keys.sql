-- Records holding a blocking key that the focus records pushed over its rule's cap: their old
-- pairs through that key are gone, so their clusters must be rebuilt.
WITH fk AS (
    SELECT b.rule, b.key, count(*) AS new_n
    FROM block_keys AS b
    JOIN focus USING (rid)
    GROUP BY b.rule, b.key
),
crossed AS (
    SELECT s.rule, s.key
    FROM block_sizes AS s
    JOIN fk ON fk.rule = s.rule AND fk.key = s.key
    WHERE s.n > s.cap AND s.n - fk.new_n BETWEEN 2 AND s.cap
)
SELECT DISTINCT b.rid::UINTEGER AS rid
FROM block_keys AS b
JOIN crossed AS c ON c.rule = b.rule AND c.key = b.key
