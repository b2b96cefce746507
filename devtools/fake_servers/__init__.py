"""Servers that stand in for a storage that is not S3 or not well, for the tests and benchmarks.

On loopback (:mod:`~devtools.fake_servers.loopback_http`): one that refuses every upload as
busy (:mod:`~devtools.fake_servers.busy`), two that stall a client
(:mod:`~devtools.fake_servers.stalling`), impostors that answer ``200`` to anything
(:mod:`~devtools.fake_servers.impostors`), and a sink that answers every upload at once and keeps
nothing (:mod:`~devtools.fake_servers.sink`), to measure clients alone.
"""
