-- FOR SYSTEM_TIME AS OF on an event-time versioned table (PRIMARY KEY + WATERMARK) plans a temporal join
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
CREATE TABLE latest_bid (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND, PRIMARY KEY (auction) NOT ENFORCED)
  WITH ('connector' = 'filesystem', 'path' = 'data/bids.ndjson', 'format' = 'json');
EXPLAIN SELECT b.auction, b.price, v.price AS previous FROM bids AS b
  JOIN latest_bid FOR SYSTEM_TIME AS OF b.ts AS v ON b.auction = v.auction;
