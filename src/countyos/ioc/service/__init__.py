"""ioc services: they read other domains' services and write only the ioc's own tables."""
