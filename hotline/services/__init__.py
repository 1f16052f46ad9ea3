"""Use cases: each takes a Session (or the parts it needs), never commits, imports no Flask, twilio or click."""
