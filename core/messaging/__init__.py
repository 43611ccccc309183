"""Messages to and from runners: the inbox of deliveries, the outbox of rows to send, notices about
a registration (notify) and the organiser's text overrides (texts)."""
