-- The batch's key rows (``block_keys``) numbered: a key the store has keeps its number
-- (``old_ids``), a new one gets the next free number (they are 0 .. count - 1).
CREATE OR REPLACE TEMP TABLE batch_known AS
SELECT d.rule, d.key, i.kid
FROM (SELECT DISTINCT rule, key FROM block_keys) AS d
LEFT JOIN old_ids AS i ON i.rule = d.rule AND i.key = d.key;
CREATE OR REPLACE TEMP TABLE batch_ids AS
SELECT rule, key, kid, FALSE AS added FROM batch_known WHERE kid IS NOT NULL
UNION ALL
SELECT rule, key, ((SELECT count(*) FROM old_ids) + row_number() OVER (ORDER BY rule, key) - 1)::UINTEGER
    AS kid, TRUE AS added
FROM batch_known
WHERE kid IS NULL;
CREATE OR REPLACE TEMP TABLE new_keys AS
SELECT b.rid, b.rule, b.cap, i.kid, b.key
FROM block_keys AS b
JOIN batch_ids AS i ON i.rule = b.rule AND i.key = b.key;
DROP TABLE block_keys;
DROP TABLE batch_known
