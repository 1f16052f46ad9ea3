"""Everything in Twilio's dialect, both directions: webhooks, signature, TwiML, and the REST adapter."""
