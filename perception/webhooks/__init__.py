"""Webhooks (DESIGN section 3): endpoints admins register, and the delivery of their events."""
