"""Report catalog, definitions, custom report config, row typing and the report stream."""
