// Replaced by the embedding API example once the runtime lands.
System.Console.WriteLine("EmbeddedAggregation");
