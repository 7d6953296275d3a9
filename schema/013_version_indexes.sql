-- The data versions (sql.c, DATA_VERSIONS) read, with every counted
-- listing and every health and availability answer, the oldest upstream
-- bucket inside the window and the last fetch of OpenRouter's endpoint
-- statistics.  Neither had an index that answers it: the first is
-- min(bucket) over all three grains, which upstream_rollup's primary
-- key (grain first) cannot give, so each request read the whole
-- imported table (tens of thousands of rows on a federated instance);
-- the second read every model's statistics row.  With these, each is
-- one probe of an index, however large the tables grow.
CREATE INDEX IF NOT EXISTS upstream_rollup_bucket_idx
	ON upstream_rollup (bucket);
CREATE INDEX IF NOT EXISTS model_endpoint_stats_fetched_idx
	ON model_endpoint_stats (fetched_at);
