-- A correlated NOT IN: a LEFT join finds whether the value is among the subquery's for the key, another joins the key's row and non-NULL counts
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT auction, bidder FROM bids b WHERE bidder NOT IN (SELECT c.bidder FROM bids c WHERE c.auction = b.auction AND c.price > 90);
