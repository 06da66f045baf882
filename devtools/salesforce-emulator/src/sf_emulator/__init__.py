"""Salesforce REST API emulator."""
