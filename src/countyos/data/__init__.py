"""数据共享与开放: the data resource catalogue, loads, sharing and open data (CKAN, DCAT)."""
