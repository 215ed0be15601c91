using System.Globalization;
using System.Text.Json;

namespace Streams.EndToEnd.Tests.Sql;

/// <summary>
/// Well-known Flink SQL, pasted unchanged (Flink documentation examples, SQL cookbook / training style queries, Nexmark
/// shapes): each statement is either accepted and answers correctly on small data, or rejected with a positioned
/// <c>not supported: ...</c> — never a crash, a hang or a confusing parse error. The expected answers were worked out by
/// hand from the tiny tables below (the window examples use the data of Flink's window TVF documentation).
/// </summary>
public sealed class FlinkCompatibilityTests : IClassFixture<FlinkCompatibilityTests.Tables>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly Tables _tables;

    public FlinkCompatibilityTests(Tables tables) => _tables = tables;

    /// <summary>The input files, written once.</summary>
    public sealed class Tables : IDisposable
    {
        public Tables()
        {
            Runner = new SqlRunner();
            Runner.WriteLines("bid.json",
            [
                """{"bidtime":"2020-04-15T08:05:00Z","price":4.00,"item":"C","supplier_id":"supplier1"}""",
                """{"bidtime":"2020-04-15T08:07:00Z","price":2.00,"item":"A","supplier_id":"supplier1"}""",
                """{"bidtime":"2020-04-15T08:09:00Z","price":5.00,"item":"D","supplier_id":"supplier2"}""",
                """{"bidtime":"2020-04-15T08:11:00Z","price":3.00,"item":"B","supplier_id":"supplier2"}""",
                """{"bidtime":"2020-04-15T08:13:00Z","price":1.00,"item":"E","supplier_id":"supplier1"}""",
                """{"bidtime":"2020-04-15T08:17:00Z","price":6.00,"item":"F","supplier_id":"supplier2"}""",
            ]);
            Runner.WriteLines("clicks.json",
            [
                """{"user":"Mary","url":"./home","cTime":"2024-01-01T12:00:00Z"}""",
                """{"user":"Bob","url":"./cart","cTime":"2024-01-01T12:00:00Z"}""",
                """{"user":"Mary","url":"./prod?id=1","cTime":"2024-01-01T12:00:05Z"}""",
                """{"user":"Liz","url":"./home","cTime":"2024-01-01T12:01:00Z"}""",
                """{"user":"Bob","url":"./prod?id=3","cTime":"2024-01-01T12:01:30Z"}""",
                """{"user":"Mary","url":"./prod?id=7","cTime":"2024-01-01T12:01:45Z"}""",
            ]);
            Runner.WriteLines("orders.json",
            [
                """{"order_id":1,"customer_id":1,"product":"apple","amount":3,"currency":"EUR","order_time":"2024-01-01T10:00:10Z"}""",
                """{"order_id":2,"customer_id":2,"product":"pear","amount":5,"currency":"USD","order_time":"2024-01-01T10:00:20Z"}""",
                """{"order_id":3,"customer_id":1,"product":"apple","amount":2,"currency":"EUR","order_time":"2024-01-01T10:01:05Z"}""",
                """{"order_id":4,"customer_id":3,"product":"plum","amount":7,"currency":"JPY","order_time":"2024-01-01T10:01:30Z"}""",
                """{"order_id":5,"customer_id":4,"product":"pear","amount":1,"currency":"USD","order_time":"2024-01-01T10:02:00Z"}""",
                """{"order_id":6,"customer_id":2,"product":"apple","amount":4,"currency":"EUR","order_time":"2024-01-01T10:02:40Z"}""",
            ]);
            Runner.WriteLines("customers.json",
            [
                """{"id":1,"name":"Alice","country":"DE"}""",
                """{"id":2,"name":"Bob","country":"US"}""",
                """{"id":3,"name":"Carol","country":"JP"}""",
                """{"id":5,"name":"Dave","country":null}""",
            ]);
            Runner.WriteLines("rates.json",
            [
                """{"currency":"EUR","rate":1.10,"update_time":"2024-01-01T09:00:00Z"}""",
                """{"currency":"USD","rate":1.00,"update_time":"2024-01-01T09:00:00Z"}""",
                """{"currency":"JPY","rate":0.01,"update_time":"2024-01-01T10:00:00Z"}""",
                """{"currency":"EUR","rate":1.20,"update_time":"2024-01-01T10:01:00Z"}""",
                """{"currency":"USD","rate":0.90,"update_time":"2024-01-01T10:02:30Z"}""",
            ]);
            Runner.WriteLines("shipments.json",
            [
                """{"ship_id":"s1","order_id":1,"ship_time":"2024-01-01T10:30:00Z"}""",
                """{"ship_id":"s2","order_id":2,"ship_time":"2024-01-01T15:00:00Z"}""",
                """{"ship_id":"s3","order_id":4,"ship_time":"2024-01-01T11:00:00Z"}""",
            ]);
            Runner.WriteLines("events.json",
            [
                """{"id":1,"epoch":1704103200,"msg":"boot"}""",
                """{"id":2,"epoch":1704103230,"msg":"ping"}""",
                """{"id":3,"epoch":1704103265,"msg":"ping"}""",
            ]);
        }

        internal SqlRunner Runner { get; }

        public void Dispose() => Runner.Dispose();
    }

    private const string BidDdl = """
        CREATE TABLE Bid (
          bidtime TIMESTAMP(3),
          price DECIMAL(10, 2),
          item STRING,
          supplier_id STRING,
          WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
        ) WITH (
          'connector' = 'filesystem',
          'path' = 'bid.json',
          'format' = 'json'
        );

        """;

    private const string ClicksDdl = """
        CREATE TABLE clicks (
          `user` STRING,
          url STRING,
          cTime TIMESTAMP(3),
          WATERMARK FOR cTime AS cTime - INTERVAL '5' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = 'clicks.json', 'format' = 'json');

        """;

    private const string OrdersDdl = """
        CREATE TABLE orders (
          order_id INT,
          customer_id INT,
          product STRING,
          amount INT,
          currency STRING,
          order_time TIMESTAMP(3),
          WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = 'orders.json', 'format' = 'json');
        CREATE TABLE customers (
          id INT,
          name STRING,
          country STRING,
          PRIMARY KEY (id) NOT ENFORCED
        ) WITH ('connector' = 'filesystem', 'path' = 'customers.json', 'format' = 'json');

        """;

    private const string RatesDdl = """
        CREATE TABLE currency_rates (
          currency STRING,
          rate DOUBLE,
          update_time TIMESTAMP(3),
          WATERMARK FOR update_time AS update_time - INTERVAL '5' SECOND,
          PRIMARY KEY (currency) NOT ENFORCED
        ) WITH ('connector' = 'filesystem', 'path' = 'rates.json', 'format' = 'json');

        """;

    private const string ShipmentsDdl = """
        CREATE TABLE shipments (
          ship_id STRING,
          order_id INT,
          ship_time TIMESTAMP(3),
          WATERMARK FOR ship_time AS ship_time - INTERVAL '5' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = 'shipments.json', 'format' = 'json');

        """;

    /// <summary>A case: the script, and either the expected rows (columns joined by |, any order) or the rejection text; <paramref name="Output"/> names the sink folder to read instead of stdout.</summary>
    public sealed record Case(string Script, string[]? Rows, string? Rejection = null, bool Ordered = false, string? Output = null)
    {
        /// <summary>The script ends with an EXPLAIN: it must print both plans.</summary>
        public bool Explains { get; init; }

        public override string ToString() => Script.Length > 60 ? Script[..60] : Script;
    }

    private static Case Rows(string script, params string[] rows) => new(script, rows);

    private static Case InOrder(string script, params string[] rows) => new(script, rows, Ordered: true);

    private static Case Written(string folder, string script, params string[] rows) => new(script, rows, Output: folder);

    private static Case Rejected(string script, string message) => new(script, null, message);

    public static TheoryData<string, Case> Corpus() => new()
    {
        // ---------------------------------------------------------------- Flink docs: window TVFs (Bid table)
        { "tvf_tumble_sum", Rows(BidDdl + """
            SELECT window_start, window_end, SUM(price)
              FROM TABLE(
                TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
              GROUP BY window_start, window_end;
            """, "08:00:00|08:10:00|11", "08:10:00|08:20:00|10") },
        { "tvf_tumble_named_args_style_select_star", Rows(BidDdl + "SELECT * FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) WHERE item IN ('C', 'B');",
            "08:05:00|4|C|supplier1|08:00:00|08:10:00|08:09:59.999", "08:11:00|3|B|supplier2|08:10:00|08:20:00|08:19:59.999") },
        { "tvf_named_arguments", Rows(BidDdl + """
            SELECT window_start, window_end, SUM(price)
              FROM TABLE(
                TUMBLE(
                  DATA => TABLE Bid,
                  TIMECOL => DESCRIPTOR(bidtime),
                  SIZE => INTERVAL '10' MINUTES))
              GROUP BY window_start, window_end;
            """, "08:00:00|08:10:00|11", "08:10:00|08:20:00|10") },
        { "tvf_hop_sum", Rows(BidDdl + """
            SELECT window_start, window_end, SUM(price)
              FROM TABLE(
                HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES))
              GROUP BY window_start, window_end;
            """, "08:00:00|08:10:00|11", "08:05:00|08:15:00|15", "08:10:00|08:20:00|10", "08:15:00|08:25:00|6") },
        { "tvf_hop_select_star", Rows(BidDdl + "SELECT item, window_start, window_end FROM TABLE(HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES)) WHERE item IN ('C', 'B');",
            "C|08:00:00|08:10:00", "C|08:05:00|08:15:00", "B|08:05:00|08:15:00", "B|08:10:00|08:20:00") },
        { "tvf_cumulate_select_star", Rows(BidDdl + "SELECT * FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES)) WHERE item = 'D';",
            "08:09:00|5|D|supplier2|08:00:00|08:10:00|08:09:59.999") },
        { "tvf_cumulate_sum", Rows(BidDdl + """
            SELECT window_start, window_end, SUM(price)
              FROM TABLE(
                CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
              GROUP BY window_start, window_end;
            """, "08:00:00|08:06:00|4", "08:00:00|08:08:00|6", "08:00:00|08:10:00|11", "08:10:00|08:12:00|3",
            "08:10:00|08:14:00|4", "08:10:00|08:16:00|4", "08:10:00|08:18:00|10", "08:10:00|08:20:00|10") },
        { "tvf_tumble_group_by_supplier", Rows(BidDdl + """
            SELECT window_start, window_end, supplier_id, SUM(price) AS price, COUNT(*) AS cnt
              FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
              GROUP BY window_start, window_end, supplier_id;
            """, "08:00:00|08:10:00|supplier1|6|2", "08:00:00|08:10:00|supplier2|5|1", "08:10:00|08:20:00|supplier1|1|1", "08:10:00|08:20:00|supplier2|9|2") },
        { "window_top_n", Rows(BidDdl + """
            SELECT *
              FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) as rownum
                FROM (
                  SELECT window_start, window_end, supplier_id, SUM(price) as price, COUNT(*) as cnt
                  FROM TABLE(
                    TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
                  GROUP BY window_start, window_end, supplier_id
                )
              ) WHERE rownum <= 3;
            """, "08:00:00|08:10:00|supplier1|6|2|1", "08:00:00|08:10:00|supplier2|5|1|2", "08:10:00|08:20:00|supplier2|9|2|1", "08:10:00|08:20:00|supplier1|1|1|2") },
        { "window_deduplication", Rows(BidDdl + """
            SELECT *
              FROM (
                SELECT bidtime, price, item, supplier_id, window_start, window_end,
                  ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY bidtime DESC) AS rownum
                FROM TABLE(
                  TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
              ) WHERE rownum <= 1;
            """, "08:09:00|5|D|supplier2|08:00:00|08:10:00|1", "08:17:00|6|F|supplier2|08:10:00|08:20:00|1") },
        { "window_having", Rows(BidDdl + """
            SELECT window_start, supplier_id, COUNT(*) AS cnt
            FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
            GROUP BY window_start, window_end, supplier_id
            HAVING SUM(price) > 5;
            """, "08:00:00|supplier1|2", "08:10:00|supplier2|2") },

        // ---------------------------------------------------------------- Flink docs: dynamic tables (clicks)
        { "clicks_backtick_user", Rows(ClicksDdl + "SELECT `user`, url FROM clicks WHERE `user` = 'Mary';", "Mary|./home", "Mary|./prod?id=1", "Mary|./prod?id=7") },
        { "clicks_count_per_user", Rows(ClicksDdl + "SELECT `user`, COUNT(url) AS cnt FROM clicks GROUP BY `user`;", "Mary|3", "Bob|2", "Liz|1") },
        { "clicks_legacy_tumble", Rows(ClicksDdl + """
            SELECT
              `user`,
              TUMBLE_END(cTime, INTERVAL '1' MINUTE) AS endT,
              COUNT(url) AS cnt
            FROM clicks
            GROUP BY `user`, TUMBLE(cTime, INTERVAL '1' MINUTE);
            """, "Mary|12:01:00|2", "Bob|12:01:00|1", "Liz|12:02:00|1", "Bob|12:02:00|1", "Mary|12:02:00|1") },
        { "clicks_session_tvf", Rows(ClicksDdl + """
            SELECT `user`, window_start, window_end, COUNT(*) AS cnt
            FROM TABLE(SESSION(TABLE clicks PARTITION BY `user`, DESCRIPTOR(cTime), INTERVAL '30' SECOND))
            GROUP BY `user`, window_start, window_end;
            """, "Mary|12:00:00|12:00:35|2", "Mary|12:01:45|12:02:15|1", "Bob|12:00:00|12:00:30|1", "Bob|12:01:30|12:02:00|1", "Liz|12:01:00|12:01:30|1") },
        { "clicks_legacy_session", Rows(ClicksDdl + """
            SELECT `user`, SESSION_START(cTime, INTERVAL '30' SECOND) AS s, COUNT(*) AS cnt
            FROM clicks GROUP BY `user`, SESSION(cTime, INTERVAL '30' SECOND);
            """, "Mary|12:00:00|2", "Mary|12:01:45|1", "Bob|12:00:00|1", "Bob|12:01:30|1", "Liz|12:01:00|1") },
        { "clicks_distinct_users", Rows(ClicksDdl + "SELECT DISTINCT `user` FROM clicks;", "Mary", "Bob", "Liz") },
        { "clicks_count_distinct", Rows(ClicksDdl + "SELECT COUNT(DISTINCT url) AS urls, COUNT(*) AS clicks FROM clicks;", "5|6") },

        // ---------------------------------------------------------------- joins (Flink docs: Joins page shapes)
        { "inner_join", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders o INNER JOIN customers c ON o.customer_id = c.id;",
            "1|Alice", "2|Bob", "3|Alice", "4|Carol", "6|Bob") },
        { "left_join", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders AS o LEFT JOIN customers AS c ON o.customer_id = c.id;",
            "1|Alice", "2|Bob", "3|Alice", "4|Carol", "5|null", "6|Bob") },
        { "right_join", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders o RIGHT JOIN customers c ON o.customer_id = c.id;",
            "1|Alice", "2|Bob", "3|Alice", "4|Carol", "6|Bob", "null|Dave") },
        { "full_outer_join", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders o FULL OUTER JOIN customers c ON o.customer_id = c.id;",
            "1|Alice", "2|Bob", "3|Alice", "4|Carol", "5|null", "6|Bob", "null|Dave") },
        { "left_join_with_condition_on_the_right", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders o LEFT JOIN customers c ON o.customer_id = c.id AND c.country = 'US';",
            "1|null", "2|Bob", "3|null", "4|null", "5|null", "6|Bob") },
        { "join_on_cast_key", Rows(OrdersDdl + "SELECT o.order_id, c.name FROM orders o JOIN customers c ON CAST(o.customer_id AS BIGINT) = c.id + 0 WHERE o.amount > 4;", "2|Bob", "4|Carol") },
        { "implicit_join", Rows(OrdersDdl + "SELECT o.order_id, c.country FROM orders o, customers c WHERE o.customer_id = c.id AND c.country = 'DE';", "1|DE", "3|DE") },
        { "interval_join", Rows(OrdersDdl + ShipmentsDdl + """
            SELECT o.order_id, s.ship_id
            FROM orders o, shipments s
            WHERE o.order_id = s.order_id
            AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time;
            """, "1|s1", "4|s3") },
        { "temporal_join", Rows(OrdersDdl + RatesDdl + """
            SELECT
              order_id,
              amount * currency_rates.rate AS converted,
              currency_rates.rate
            FROM orders
            LEFT JOIN currency_rates FOR SYSTEM_TIME AS OF orders.order_time
            ON orders.currency = currency_rates.currency;
            """, "1|3.3000000000000003|1.1", "2|5|1", "3|2.4|1.2", "4|0.07|0.01", "5|1|1", "6|4.8|1.2") },
        { "join_aggregate", Rows(OrdersDdl + "SELECT c.country, SUM(o.amount) AS total FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.country;",
            "DE|5", "US|9", "JP|7") },

        // ---------------------------------------------------------------- subqueries, CTEs, set operations
        { "in_subquery", Rows(OrdersDdl + "SELECT order_id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = 'US');", "2", "6") },
        { "not_in_subquery", Rows(OrdersDdl + "SELECT id, name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders);", "5|Dave") },
        { "exists_correlated", Rows(OrdersDdl + "SELECT name FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id AND o.amount > 3);", "Bob", "Carol") },
        { "not_exists_correlated", Rows(OrdersDdl + "SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 3);", "Alice", "Dave") },
        { "correlated_not_in", Rows(OrdersDdl + "SELECT name FROM customers c WHERE id NOT IN (SELECT customer_id FROM orders o WHERE o.product = c.name);", "Alice", "Bob", "Carol", "Dave") },
        { "correlated_not_in_matching", Rows(OrdersDdl + "SELECT order_id FROM orders o WHERE o.amount NOT IN (SELECT o2.amount + 1 FROM orders o2 WHERE o2.product = o.product);", "2", "3", "4", "5") },
        { "in_under_or", Rows(OrdersDdl + "SELECT order_id FROM orders WHERE amount > 6 OR customer_id IN (SELECT id FROM customers WHERE country = 'DE');", "1", "3", "4") },
        { "exists_under_or", Rows(OrdersDdl + "SELECT name FROM customers c WHERE c.country IS NULL OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.currency = 'USD');", "Bob", "Dave") },
        { "scalar_subquery", Rows(OrdersDdl + "SELECT order_id FROM orders WHERE amount > (SELECT AVG(amount) FROM orders);", "2", "4", "6") },
        { "correlated_scalar_subquery", Rows(OrdersDdl + "SELECT product, order_id FROM orders o WHERE amount = (SELECT MAX(amount) FROM orders i WHERE i.product = o.product);", "apple|6", "pear|2", "plum|4") },
        { "cte", Rows(OrdersDdl + "WITH big AS (SELECT * FROM orders WHERE amount >= 4) SELECT product, COUNT(*) AS n FROM big GROUP BY product;", "pear|1", "plum|1", "apple|1") },
        { "cte_chain", Rows(OrdersDdl + """
            WITH per_customer AS (
              SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id
            ), ranked AS (
              SELECT customer_id, total FROM per_customer WHERE total > 4
            )
            SELECT c.name, r.total FROM ranked r JOIN customers c ON r.customer_id = c.id;
            """, "Alice|5", "Bob|9", "Carol|7") },
        { "union_all", Rows(OrdersDdl + "SELECT product FROM orders WHERE amount > 4 UNION ALL SELECT name FROM customers WHERE id = 1;", "pear", "plum", "Alice") },
        { "union", Rows(OrdersDdl + "SELECT customer_id FROM orders UNION SELECT id FROM customers;", "1", "2", "3", "4", "5") },
        { "intersect", Rows(OrdersDdl + "SELECT customer_id FROM orders INTERSECT SELECT id FROM customers;", "1", "2", "3") },
        { "except", Rows(OrdersDdl + "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders;", "5") },
        { "intersect_all", Rows(OrdersDdl + "SELECT product FROM orders INTERSECT ALL SELECT product FROM orders WHERE amount > 2;", "apple", "apple", "pear", "plum") },
        { "except_all", Rows(OrdersDdl + "SELECT customer_id FROM orders EXCEPT ALL SELECT id FROM customers;", "1", "2", "4") },
        { "values_in_from", Rows("SELECT id, name FROM (VALUES (1, 'a'), (2, 'b'), (3, CAST(NULL AS STRING))) AS t(id, name) WHERE id > 1;", "2|b", "3|null") },
        { "view", Rows(OrdersDdl + "CREATE VIEW apples AS SELECT order_id, amount FROM orders WHERE product = 'apple'; SELECT SUM(amount) AS s FROM apples;", "9") },

        // ---------------------------------------------------------------- Top-N, dedup, ORDER BY ... LIMIT (Flink docs)
        { "top_n", Rows(OrdersDdl + """
            SELECT product, order_id, amount
            FROM (
              SELECT *,
                ROW_NUMBER() OVER (PARTITION BY product ORDER BY amount DESC) AS row_num
              FROM orders)
            WHERE row_num <= 2;
            """, "apple|6|4", "apple|1|3", "pear|2|5", "pear|5|1", "plum|4|7") },
        { "deduplication_first_row", Rows(OrdersDdl + """
            SELECT order_id, customer_id
            FROM (
              SELECT *,
                ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_time ASC) AS row_num
              FROM orders)
            WHERE row_num = 1;
            """, "1|1", "2|2", "4|3", "5|4") },
        { "order_by_limit", InOrder(OrdersDdl + "SELECT order_id, amount FROM orders ORDER BY amount DESC LIMIT 3;", "4|7", "2|5", "6|4") },

        // ---------------------------------------------------------------- aggregates
        { "global_aggregate_over_empty_input", Rows(OrdersDdl + "SELECT COUNT(*) AS n, SUM(amount) AS s, MAX(amount) AS m FROM orders WHERE amount > 100;", "0|null|null") },
        { "aggregate_filter_clause", Rows(OrdersDdl + "SELECT product, COUNT(*) FILTER (WHERE amount > 2) AS big, SUM(amount) AS total FROM orders GROUP BY product;", "apple|2|9", "pear|1|6", "plum|1|7") },
        { "avg_of_int_is_int", Rows(OrdersDdl + "SELECT product, AVG(amount) AS a, AVG(CAST(amount AS DOUBLE)) AS d FROM orders WHERE product <> 'plum' GROUP BY product;", "apple|3|3", "pear|3|3") },
        { "having", Rows(OrdersDdl + "SELECT customer_id, COUNT(*) AS cnt FROM orders GROUP BY customer_id HAVING COUNT(*) > 1;", "1|2", "2|2") },

        // ---------------------------------------------------------------- functions users paste
        { "case_if_nullif_coalesce", Rows(OrdersDdl + """
            SELECT order_id,
              CASE WHEN amount > 4 THEN 'large' ELSE 'small' END AS size,
              IF(currency = 'EUR', 'eu', 'other') AS region,
              NULLIF(amount, 3) AS n,
              COALESCE(NULLIF(product, 'pear'), 'none') AS p
            FROM orders WHERE order_id <= 2;
            """, "1|small|eu|null|apple", "2|large|other|5|none") },
        { "string_functions", Rows(OrdersDdl + """
            SELECT UPPER(product), CONCAT(product, '-', currency), CONCAT_WS('/', product, currency), LPAD(CAST(order_id AS STRING), 3, '0'),
              RPAD(product, 6, '*'), REPLACE(product, 'p', 'P'), INITCAP(product), POSITION('p' IN product), CHAR_LENGTH(product), SUBSTRING(product, 2, 3)
            FROM orders WHERE order_id = 1;
            """, "APPLE|apple-EUR|apple/EUR|001|apple*|aPPle|Apple|2|5|ppl") },
        { "regexp_split_functions", Rows(ClicksDdl + "SELECT REGEXP_EXTRACT(url, 'id=(\\d+)', 1) AS id, SPLIT_INDEX(url, '?', 0) AS path FROM clicks WHERE `user` = 'Bob';",
            "null|./cart", "3|./prod") },
        { "date_format_and_time_functions", Rows(OrdersDdl + """
            SELECT DATE_FORMAT(order_time, 'yyyy-MM-dd HH:mm:ss'), HOUR(order_time), MINUTE(order_time), EXTRACT(SECOND FROM order_time),
              TIMESTAMPADD(MINUTE, 5, order_time), TIMESTAMPDIFF(SECOND, TIMESTAMP '2024-01-01 10:00:00', order_time)
            FROM orders WHERE order_id = 3;
            """, "2024-01-01 10:01:05|10|1|5|10:06:05|65") },
        { "unix_time_functions", Rows("""
            CREATE TABLE events (id INT, epoch BIGINT, msg STRING) WITH ('connector' = 'filesystem', 'path' = 'events.json', 'format' = 'json');
            SELECT id, FROM_UNIXTIME(epoch), TO_TIMESTAMP(FROM_UNIXTIME(epoch)), UNIX_TIMESTAMP(FROM_UNIXTIME(epoch)), TO_TIMESTAMP('2024-01-01 10:00:00') FROM events WHERE id = 1;
            """, "1|2024-01-01 10:00:00|10:00:00|1704103200|10:00:00") },
        { "computed_watermark_column", Rows("""
            CREATE TABLE events (
              id INT,
              epoch BIGINT,
              msg STRING,
              ts AS TO_TIMESTAMP(FROM_UNIXTIME(epoch)),
              WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
            ) WITH ('connector' = 'filesystem', 'path' = 'events.json', 'format' = 'json');
            SELECT window_start, COUNT(*) AS n, MAX(msg) AS m
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end;
            """, "10:00:00|2|ping", "10:01:00|1|ping") },

        // ---------------------------------------------------------------- connectors and statements from pasted jobs
        { "datagen_sequence", Rows("""
            CREATE TABLE gen (
              id INT,
              score INT
            ) WITH (
              'connector' = 'datagen',
              'fields.id.kind' = 'sequence',
              'fields.id.start' = '1',
              'fields.id.end' = '100',
              'fields.score.min' = '5',
              'fields.score.max' = '9'
            );
            SELECT COUNT(*) AS n, SUM(id) AS s, MIN(score) >= 5 AND MAX(score) <= 9 AS in_range FROM gen;
            """, "100|5050|true") },
        { "datagen_number_of_rows", Rows("""
            CREATE TABLE orders_gen (
              order_number BIGINT,
              price DOUBLE,
              buyer STRING,
              order_time TIMESTAMP(3)
            ) WITH (
              'connector' = 'datagen',
              'rows-per-second' = '1000000',
              'number-of-rows' = '500',
              'fields.buyer.length' = '4'
            );
            SELECT COUNT(*) AS n, MIN(CHAR_LENGTH(buyer)) AS lo, MAX(CHAR_LENGTH(buyer)) AS hi FROM orders_gen;
            """, "500|4|4") },
        { "statement_set", Written("out_set", OrdersDdl + """
            CREATE TABLE big_sink (order_id INT) WITH ('connector' = 'blackhole');
            CREATE TABLE print_sink (order_id INT, product STRING) WITH ('connector' = 'filesystem', 'path' = 'out_set', 'format' = 'json');
            EXECUTE STATEMENT SET
            BEGIN
              INSERT INTO big_sink SELECT order_id FROM orders WHERE amount > 4;
              INSERT INTO print_sink SELECT order_id, product FROM orders WHERE amount = 7;
            END;
            """, "4|plum") },
        { "begin_statement_set", Written("out_begin", OrdersDdl + """
            CREATE TABLE print_sink (n BIGINT) WITH ('connector' = 'filesystem', 'path' = 'out_begin', 'format' = 'json');
            BEGIN STATEMENT SET;
            INSERT INTO print_sink SELECT COUNT(*) FROM orders WHERE product = 'pear';
            END;
            """, "2") },
        { "insert_values", Written("out_values", """
            CREATE TABLE print_sink (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = 'out_values', 'format' = 'json');
            INSERT INTO print_sink VALUES (1, 'x'), (2, 'y');
            """, "1|x", "2|y") },
        { "select_without_from", Rows("SELECT 1 + 1 AS two, UPPER('flink') AS name, CURRENT_TIMESTAMP IS NOT NULL AS has_time;", "2|FLINK|true") },
        { "explain_changelog_mode", new(OrdersDdl + "EXPLAIN CHANGELOG_MODE SELECT product, COUNT(*) FROM orders GROUP BY product;", null, Output: null) { Explains = true } },
        { "insert_with_column_list", Written("out_columns", OrdersDdl + """
            CREATE TABLE sink (order_id INT, note STRING, amount BIGINT) WITH ('connector' = 'filesystem', 'path' = 'out_columns', 'format' = 'json');
            INSERT INTO sink (amount, order_id) SELECT amount, order_id FROM orders WHERE product = 'plum';
            """, "4|null|7") },
        { "scalar_subquery_in_select", Rows(OrdersDdl + "SELECT order_id, amount * 100 / (SELECT SUM(amount) FROM orders) AS pct FROM orders WHERE order_id <= 2;", "1|13", "2|22") },
        { "over_range_aggregate", Rows(OrdersDdl + """
            SELECT order_id, amount,
              SUM(amount) OVER (
                PARTITION BY product
                ORDER BY order_time
                RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW
              ) AS one_hour_prod_amount_sum
            FROM orders;
            """, "1|3|3", "3|2|5", "6|4|9", "2|5|5", "5|1|6", "4|7|7") },
        { "set_statements_are_accepted", Rows(OrdersDdl + """
            SET 'execution.runtime-mode' = 'streaming';
            SET 'table.exec.mini-batch.enabled' = 'true';
            SELECT COUNT(*) FROM orders;
            """, "6") },

        // ---------------------------------------------------------------- rejected cleanly
        { "kafka_connector", Rejected("""
            CREATE TABLE kafka_orders (order_id INT) WITH (
              'connector' = 'kafka',
              'topic' = 'orders',
              'properties.bootstrap.servers' = 'localhost:9092',
              'format' = 'json'
            );
            """, "line 2, column 17: not supported: connector 'kafka'") },
        { "upsert_kafka_connector", Rejected("CREATE TABLE t (k STRING, v BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 't');", "not supported: connector 'upsert-kafka'") },
        { "jdbc_connector", Rejected("CREATE TABLE t (k STRING) WITH ('connector' = 'jdbc', 'url' = 'jdbc:mysql://localhost:3306/db', 'table-name' = 't');", "not supported: connector 'jdbc'") },
        { "faker_connector", Rejected("CREATE TEMPORARY TABLE server_logs (client_ip STRING) WITH ('connector' = 'faker', 'fields.client_ip.expression' = '#{Internet.publicIpV4Address}');", "not supported: connector 'faker'") },
        { "avro_format", Rejected("CREATE TABLE t (k STRING) WITH ('connector' = 'filesystem', 'path' = 'x', 'format' = 'avro');", "not supported: format 'avro'") },
        { "nexmark_row_type", Rejected("CREATE TABLE nexmark_table (event_type INT, person ROW<id BIGINT, name VARCHAR>) WITH ('connector' = 'nexmark');", "not supported: type ROW") },
        { "rank_top_n", Rejected(OrdersDdl + "SELECT * FROM (SELECT *, RANK() OVER (PARTITION BY product ORDER BY amount DESC) AS r FROM orders) WHERE r <= 2;", "not supported: RANK() OVER") },
        { "current_date", Rejected(OrdersDdl + "SELECT order_id FROM orders WHERE order_time > CURRENT_DATE;", "not supported: CURRENT_DATE") },
        { "as_of_outside_join", Rejected(OrdersDdl + "SELECT * FROM orders FOR SYSTEM_TIME AS OF order_time;", "not supported: FOR SYSTEM_TIME AS OF outside a join") },
        { "processing_time_temporal_join", Rejected(OrdersDdl + """
            CREATE TABLE rates_no_watermark (currency STRING, rate DOUBLE, PRIMARY KEY (currency) NOT ENFORCED)
              WITH ('connector' = 'filesystem', 'path' = 'rates.json', 'format' = 'json');
            SELECT o.order_id, r.rate FROM orders AS o JOIN rates_no_watermark FOR SYSTEM_TIME AS OF o.order_time AS r ON o.currency = r.currency;
            """, "not supported: processing-time temporal joins") },
        { "metadata_column", Rejected("CREATE TABLE t (k STRING, ts TIMESTAMP(3) METADATA FROM 'timestamp') WITH ('connector' = 'kafka');", "not supported: METADATA columns") },
        { "match_recognize", Rejected(OrdersDdl + """
            SELECT * FROM orders
              MATCH_RECOGNIZE (
                PARTITION BY product ORDER BY order_time
                MEASURES A.amount AS a
                PATTERN (A B)
                DEFINE A AS A.amount > 1
              ) AS T;
            """, "not supported: MATCH_RECOGNIZE") },
        { "create_function", Rejected("CREATE FUNCTION my_udf AS 'com.example.MyUdf';", "not supported: CREATE FUNCTION") },
        { "lateral_table_udtf", Rejected(OrdersDdl + "SELECT order_id, word FROM orders, LATERAL TABLE(split(product)) AS T(word);", "not supported: LATERAL") },
        { "cross_join_unnest", Rejected(OrdersDdl + "SELECT order_id, t.x FROM orders CROSS JOIN UNNEST(ARRAY[1, 2]) AS t (x);", "not supported: UNNEST") },
        { "array_type", Rejected("CREATE TABLE t (tags ARRAY<STRING>) WITH ('connector' = 'datagen');", "not supported: type ARRAY") },
        { "json_functions", Rejected(OrdersDdl + "SELECT JSON_VALUE(product, '$.a') FROM orders;", "not supported: function JSON_VALUE") },
        { "alter_table", Rejected(OrdersDdl + "ALTER TABLE orders SET ('path' = 'x');", "not supported") },
        { "use_catalog", Rejected("USE CATALOG my_catalog;", "not supported") },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Flink_sql_runs_unchanged_or_is_rejected_cleanly(string name, Case c)
    {
        if (c.Output is not null && Directory.Exists(Path.Combine(_tables.Runner.Folder, c.Output)))
        {
            Directory.Delete(Path.Combine(_tables.Runner.Folder, c.Output), recursive: true);
        }

        var run = Task.Run(() => _tables.Runner.Run(c.Script, parallelism: 2, name: name + ".sql"));
        var finished = await Task.WhenAny(run, Task.Delay(Limit));
        Assert.True(finished == run, $"{name}: no answer within {Limit.TotalSeconds} s (a hang is the worst outcome)");
        var result = await run;
        if (c.Rejection is { } message)
        {
            Assert.True(result.ExitCode == 2, $"{name}: expected a rejection, got exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
            var first = result.Stderr.Split('\n')[0];
            Assert.Matches(@"^error: line \d+, column \d+: ", first);
            Assert.Contains(message, first, StringComparison.Ordinal);
            Assert.Contains("^", result.Stderr, StringComparison.Ordinal);
            return;
        }

        Assert.True(result.ExitCode == 0, $"{name}: exit {result.ExitCode}\n{result.Stderr}");
        if (c.Explains)
        {
            Assert.Contains("== Logical Plan ==", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("== Physical Plan ==", result.Stdout, StringComparison.Ordinal);
            return;
        }

        var lines = c.Output is null
            ? result.Lines
            : Directory.GetFiles(Path.Combine(_tables.Runner.Folder, c.Output), "part-*").SelectMany(File.ReadAllLines).Where(l => l.Length > 0).ToArray();
        var actual = lines.Select(Canonical).ToList();
        var expected = c.Rows!.ToList();
        if (!c.Ordered)
        {
            actual.Sort(StringComparer.Ordinal);
            expected.Sort(StringComparer.Ordinal);
        }

        Assert.Equal(expected, actual);
    }

    /// <summary>One output line as its values joined by |: numbers shortest round-trip, timestamps as time of day.</summary>
    private static string Canonical(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return string.Join("|", doc.RootElement.EnumerateObject().Where(p => p.Name != "op").Select(p => p.Value.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.Number => p.Value.GetDouble().ToString("R", CultureInfo.InvariantCulture),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.String when DateTimeOffset.TryParseExact(p.Value.GetString(), ["yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                => t.UtcDateTime.ToString(t.Millisecond == 0 ? "HH:mm:ss" : "HH:mm:ss.fff", CultureInfo.InvariantCulture),
            _ => p.Value.GetString()!,
        }));
    }
}
