"""Extract contracts: read, validate, load good rows, quarantine the rest, reconcile."""
