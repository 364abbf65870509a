"""The raylet: one per node; worker leases, the worker pool and the object store.

`scheduler.NodeScheduler` decides where each lease goes (no I/O),
`worker_pool.WorkerPool` starts and watches worker processes,
`object_manager.ObjectManager` serves the node's shared-memory store,
`node_manager.NodeManager` is the RayletService gRPC shell around them, and
`python -m plait._services.raylet` runs the process.
"""
