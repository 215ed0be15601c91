-- Query 4: Average price for a category. The average of the winning bid prices of all auctions in each category:
-- a join, an aggregate over its result, and an aggregate over that.
CREATE TABLE nexmark_q4 (
    id BIGINT,
    final BIGINT
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q4
SELECT
    Q.category,
    AVG(Q.final)
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
