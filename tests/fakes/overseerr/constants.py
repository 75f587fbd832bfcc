"""Overseerr's enums with their wire values (reference/upstream-apis.md §3)."""

from __future__ import annotations

# Permission bits (server/lib/permissions.ts). ADMIN passes every check.
ADMIN = 2
MANAGE_USERS = 8
MANAGE_REQUESTS = 16
REQUEST = 32
AUTO_APPROVE = 128
AUTO_APPROVE_MOVIE = 256
AUTO_APPROVE_TV = 512
REQUEST_4K = 1024
REQUEST_4K_MOVIE = 2048
REQUEST_4K_TV = 4096
REQUEST_VIEW = 16384
AUTO_APPROVE_4K = 32768
AUTO_APPROVE_4K_MOVIE = 65536
AUTO_APPROVE_4K_TV = 131072
REQUEST_MOVIE = 262144
REQUEST_TV = 524288

# MediaRequestStatus; COMPLETED exists in Seerr only.
REQUEST_PENDING = 1
REQUEST_APPROVED = 2
REQUEST_DECLINED = 3
REQUEST_FAILED = 4
REQUEST_COMPLETED = 5

# MediaStatus; BLOCKLISTED and DELETED exist in Seerr only.
UNKNOWN = 1
PENDING = 2
PROCESSING = 3
PARTIALLY_AVAILABLE = 4
AVAILABLE = 5
BLOCKLISTED = 6
DELETED = 7

MEDIA_STATUS_NAMES = {
    UNKNOWN: "UNKNOWN",
    PENDING: "PENDING",
    PROCESSING: "PROCESSING",
    PARTIALLY_AVAILABLE: "PARTIALLY_AVAILABLE",
    AVAILABLE: "AVAILABLE",
    BLOCKLISTED: "BLOCKLISTED",
    DELETED: "DELETED",
}

# UserType
PLEX_USER = 1
LOCAL_USER = 2

# Notification types a webhook may carry, and the `event` each one gives a request; `{4k}` is
# "4K " for 4K requests, `{kind}` is "Movie" or "Series".
REQUEST_EVENTS = {
    "MEDIA_PENDING": "New {4k}{kind} Request",
    "MEDIA_APPROVED": "{4k}{kind} Request Approved",
    "MEDIA_DECLINED": "{4k}{kind} Request Declined",
    "MEDIA_AUTO_APPROVED": "{4k}{kind} Request Automatically Approved",
    "MEDIA_AUTO_REQUESTED": "{4k}{kind} Request Automatically Submitted",
    "MEDIA_FAILED": "{4k}{kind} Request Failed",
    "MEDIA_AVAILABLE": "{4k}{kind} Request Now Available",
}
