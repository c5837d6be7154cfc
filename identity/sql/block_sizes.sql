-- How many records hold each blocking key, per rule (with the rule's block cap).
CREATE OR REPLACE TEMP TABLE block_sizes AS
SELECT rule, any_value(cap) AS cap, key, count(*) AS n
FROM block_keys
GROUP BY rule, key
