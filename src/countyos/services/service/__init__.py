"""Services of the services domain (catalogue, Excel exchange)."""
