"""The pure core: plan model, templates, scheduling, layout, parsing, health. No I/O here."""
