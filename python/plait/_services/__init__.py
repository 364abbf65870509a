"""The services: the GCS, the raylet (worker pool, scheduler, object manager) and the
node's object store, each a process of its own; node.py starts them."""
