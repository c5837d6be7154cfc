-- Every holder of the focus records' keys that are small enough to pair on: the stored holders
-- (``old_holders``, of the keys ``small_kids`` lists, and ``old_touch``) and the new ones.
CREATE OR REPLACE TEMP TABLE holders AS
SELECT rid, rule, kid FROM old_holders
UNION ALL
SELECT rid, rule, kid FROM old_touch
UNION ALL
SELECT rid, rule, kid FROM new_keys
