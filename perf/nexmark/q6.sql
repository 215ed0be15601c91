-- Query 6: Average selling price by seller: the average winning price of each seller's last 10 closed auctions.
-- Shares the winning-bids core of query 4 and adds an OVER window over a retracting Top-1; the published Flink
-- version is marked as not supported by Flink itself for that reason.
CREATE TABLE nexmark_q6 (
    seller VARCHAR,
    avg_price BIGINT
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q6
SELECT
    Q.seller,
    AVG(Q.price) OVER
        (PARTITION BY Q.seller ORDER BY Q.dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY A.id, A.seller ORDER BY B.price DESC) AS rownum
    FROM (SELECT A.id, A.seller, B.price, B.dateTime
          FROM auction AS A, bid AS B
          WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires)
    WHERE rownum <= 1
) AS Q;
