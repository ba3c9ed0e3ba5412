"""Input models of the safety domain, one module per part (API and page forms alike)."""
