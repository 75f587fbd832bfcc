"""Announcements administrators send everyone: an inbox item each, and a banner over every page."""
