"""Spatial base of the county: divisions, unit grids, management components, lookup and map."""
