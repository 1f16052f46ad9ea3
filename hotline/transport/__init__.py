"""Telephony and messaging behind one small protocol; Twilio and the offline demo are its two adapters."""

from hotline.transport.base import PlacedCall, SentMessage, Transport, TransportError

__all__ = ["PlacedCall", "SentMessage", "Transport", "TransportError"]
