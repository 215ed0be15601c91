-- A correlated scalar subquery over a key with no rows gives its empty-group value: COUNT 0, MAX NULL, COUNT + 1 is 1
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT t.k,
       (SELECT COUNT(*) FROM bids b WHERE b.auction = t.k) AS n,
       (SELECT COUNT(*) + 1 FROM bids b WHERE b.auction = t.k AND b.price > 90) AS big_plus_one,
       (SELECT MAX(b.price) FROM bids b WHERE b.auction = t.k) AS hi
FROM (VALUES (1), (3), (7), (CAST(NULL AS INT))) AS t(k);
