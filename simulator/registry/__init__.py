"""The OCI distribution registry behind ``csim registry``, and a client for it.

Public API (import the submodules; this package imports nothing, so that
``import simulator.registry`` stays cheap and aiohttp loads only when a
registry is actually served):

- ``storage.RegistryStorage(root)``: crash-safe blobs, uploads, manifests, tags.
- ``server.make_app(storage, *, read_only=False, users=None)``: the aiohttp app.
- ``server.serve(addr, root, ...)`` (async) and ``server.run_registry(addr, root, ...)``
  (blocking, SIGINT/SIGTERM stop it).
- ``client.RegistryClient(base_url)``: synchronous pull/push client.
- ``errors.RegistryError``: a distribution error code as a ``DockerError``.
"""
