"""Services of the ecology domain: they take ``session`` first, never commit, and audit every write."""
