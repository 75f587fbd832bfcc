"""Status: whether Plex, Overseerr, MediaNest's own parts and the Uptime Kuma monitors an
administrator picked are up, how they did lately, and telling administrators when one goes down."""
