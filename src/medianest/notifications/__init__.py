"""Notifications: each person's in-app inbox of what happened to their requests, downloads and
the services, and the bell that counts what they have not read yet."""
