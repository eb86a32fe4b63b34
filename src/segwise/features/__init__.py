"""Features: pure transformations of tables (RFM SQL text, preprocessing estimators)."""
