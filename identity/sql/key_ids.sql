-- Every blocking key with a number (kept for incremental runs, which join on the numbers and
-- never re-read the key strings of the store), and every key row with its key's number.
CREATE OR REPLACE TEMP TABLE key_ids AS
SELECT rule, key, n, (row_number() OVER () - 1)::UINTEGER AS kid
FROM block_sizes;
CREATE OR REPLACE TEMP TABLE keyed AS
SELECT b.rid, b.rule, b.cap, i.kid, i.n
FROM block_keys AS b
JOIN key_ids AS i ON i.rule = b.rule AND i.key = b.key
