"""Pure evidence maths over stored samples: series, figures, onsets, budget. No I/O, no clock."""
