"""Input and output models of the village domain, one module per part."""
