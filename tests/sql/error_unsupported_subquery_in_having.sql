-- fail: IN subqueries are joined in only in WHERE and in the select list of a query without GROUP BY
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, COUNT(*) AS n FROM bids GROUP BY auction HAVING auction IN (SELECT bidder FROM bids);
