"""cases services: queries and writes. They never commit; the caller's unit of work does."""
