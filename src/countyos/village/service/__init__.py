"""Services of the village domain: they take ``session`` first, never commit, and audit every write."""
