"""Input and output models of the ecology domain, one module per part."""
