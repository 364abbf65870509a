"""The transport layer: gRPC channels and servers, the I/O loop thread, the node store's
shared-memory client. Imports only plait._protocol and plait._format."""
