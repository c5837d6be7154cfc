-- Pairs through a key of block size 2..cap: touching a focus record, or (within) both in it.
WITH ok AS (SELECT kid FROM hsizes WHERE n BETWEEN 2 AND cap),
f AS (SELECT k.rid, k.rule, k.kid FROM fkeys AS k JOIN ok ON ok.kid = k.kid),
o AS (
    SELECT h.rid, h.kid FROM holders AS h JOIN ok ON ok.kid = h.kid
    WHERE NOT $1 OR h.rid IN (SELECT rid FROM focus)
)
SELECT
    least(f.rid, o.rid)::UINTEGER AS rid_l,
    greatest(f.rid, o.rid)::UINTEGER AS rid_r,
    bit_or(1::INTEGER << f.rule)::INTEGER AS rules
FROM f
JOIN o ON f.kid = o.kid AND f.rid <> o.rid
GROUP BY 1, 2
