"""Services of the sensing domain (session first, keyword-only arguments, never commit)."""
