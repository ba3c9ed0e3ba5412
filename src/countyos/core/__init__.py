"""Core: settings, database, clock, errors, i18n and crypto helpers. Imports no domain."""
