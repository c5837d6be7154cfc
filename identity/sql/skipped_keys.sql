-- Blocking keys held by more records than their rule's cap: too common to block on.
SELECT rule, key, n AS records, cap
FROM block_sizes
WHERE n > cap
ORDER BY rule, n DESC, key
