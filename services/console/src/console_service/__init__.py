"""console: the tenant admins' view of every chat's fate, and the repairs they ask for."""
