-- The keys that make pairs (block size 2..cap) as integers, one per (rule, key): the key
-- strings and their counts can be dropped before the big self-join.
CREATE OR REPLACE TEMP TABLE pair_keys AS
WITH ids AS (
    SELECT rule, key, row_number() OVER () AS kid
    FROM block_sizes
    WHERE n BETWEEN 2 AND cap
)
SELECT b.rid, b.rule, i.kid::UINTEGER AS kid
FROM block_keys AS b
JOIN ids AS i ON i.rule = b.rule AND i.key = b.key
