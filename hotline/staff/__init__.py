"""Staff-facing pages: the handover and roster pages behind signed links, and the calendar feeds."""
