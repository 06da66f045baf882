"""Object and field definitions: the standard objects, per-org custom fields, describe."""
