"""The Uptime Kuma wire adapter: public status pages, their heartbeats, and `/metrics`."""
