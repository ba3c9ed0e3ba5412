"""Services of the hidden-danger inspections (隐患排查) part of the safety domain."""
