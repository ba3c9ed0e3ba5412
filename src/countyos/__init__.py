"""CountyOS: the operations platform of a Chinese county (县域智慧城市)."""

__version__ = "0.1.0"
