"""Pure domain core: events, incidents, lifecycle and durations. No I/O, no clock."""
