"""The node's shared-memory object store.

- `policy`: the object table, capacity accounting and spill decisions (no I/O).
- `local_store`: the raylet's side: object files in /dev/shm, spilling to disk.
- `client`: a worker's or driver's side: write an object file, map one without copying.

Modules are imported one by one (the client pulls in pyarrow; the raylet does not need it).
"""
