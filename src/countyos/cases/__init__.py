"""一网统管 case handling: categories, routing, lifecycle, timers, supervision, evaluation, Open311, 12345."""
