"""Phone, e-mail, name and identifier normalisers: clean, parse, build match keys."""
