"""web: base layout, static assets, request context (auth, CSRF, locale) and shared page components."""
