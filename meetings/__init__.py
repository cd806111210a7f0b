"""KOL committee meetings: services, the scan that hands due e-mails to the outbox, e-mails and calendars, pages."""
