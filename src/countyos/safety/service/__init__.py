"""Services of the safety domain, one module (or a few) per part."""
