"""The transport layer: gRPC channels and servers, typed clients of every service, the
I/O loop thread, the node store's shared-memory client. Imports only plait._protocol and
plait._format."""
