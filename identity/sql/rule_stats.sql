-- Per rule: keys, candidate pairs it would produce, and keys skipped as too common.
SELECT
    rule,
    count(*) AS keys,
    coalesce(sum(n * (n - 1) // 2) FILTER (WHERE n <= cap), 0)::BIGINT AS pairs,
    coalesce(max(n) FILTER (WHERE n <= cap), 0)::BIGINT AS biggest_block,
    count(*) FILTER (WHERE n > cap) AS skipped_keys,
    coalesce(sum(n) FILTER (WHERE n > cap), 0)::BIGINT AS skipped_records
FROM block_sizes
GROUP BY rule
ORDER BY rule
