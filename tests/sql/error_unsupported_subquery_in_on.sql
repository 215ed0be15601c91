-- fail: subqueries are joined in only in WHERE, HAVING and the select list, not in a join's ON condition
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT b.auction, c.bidder FROM bids b JOIN bids c ON b.auction = c.auction AND c.bidder IN (SELECT bidder FROM bids WHERE price > 90);
