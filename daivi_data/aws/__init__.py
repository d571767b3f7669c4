"""AWS plumbing of the Athena engine: per-principal credentials, bound parameters, typed errors."""
