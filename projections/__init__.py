"""Read models, each rebuilt from the event log and written with its position."""
