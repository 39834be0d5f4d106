"""Providers: the outside world (clouds, machines) behind one protocol, `providers.base.Provider`."""
