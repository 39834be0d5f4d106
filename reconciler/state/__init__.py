"""State: what reconciler last recorded of every resource, and the backends that keep it."""
