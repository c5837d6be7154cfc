-- Old records holding a key the batch pushed over its cap: their pairs through it are gone.
SELECT DISTINCT h.rid::UINTEGER AS rid
FROM old_touch AS h
JOIN touched AS t ON t.kid = h.kid
WHERE t.old_n BETWEEN 2 AND t.cap AND t.old_n + t.added > t.cap
