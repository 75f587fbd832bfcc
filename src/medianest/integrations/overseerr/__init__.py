"""The Overseerr/Seerr wire adapter: discover, search, details, requests made as a user, users."""
