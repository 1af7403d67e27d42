"""Great Expectations suites of qiangji and the code that runs them inside DuckDB."""
