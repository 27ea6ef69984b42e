"""Read models and the runner that keeps them (built in the read-side issue)."""
