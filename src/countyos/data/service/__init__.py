"""Services of the data domain (take a session first, never commit, audit every write)."""
