-- Candidate pairs: records sharing a key of any rule, once per pair, with the rules as bits.
-- A pair is one number (rid_l in the high 32 bits): one key to group on, one to sort on.
SELECT
    (l.rid::UBIGINT << 32) | r.rid::UBIGINT AS pair,
    bit_or(1::INTEGER << l.rule)::INTEGER AS rules
FROM pair_keys AS l
JOIN pair_keys AS r ON l.kid = r.kid AND l.rid < r.rid
GROUP BY pair
