"""A fake push service (what a browser vendor runs for Web Push), as a real HTTP server."""
