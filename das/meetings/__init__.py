"""KOL committee meetings: services, the reminder engine, e-mails and calendars, pages."""
