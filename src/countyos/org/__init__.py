"""org: departments, users, roles and permissions, login, API tokens, MFA and the audit log."""
