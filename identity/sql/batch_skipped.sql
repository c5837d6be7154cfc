-- Keys the new records hold that are over their cap now (with all their holders).
SELECT rule, key, old_n + added AS records, cap
FROM touched
WHERE old_n + added > cap
ORDER BY rule, records DESC, key
