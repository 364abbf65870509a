"""The GCS: plait's cluster control plane (nodes, jobs, actors, internal KV).

`state.GcsState` holds the tables and makes every decision without sockets;
`server` is the gRPC shell around it; `python -m plait._services.gcs` runs the process.
"""
