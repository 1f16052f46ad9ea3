"""Staff-facing words: one catalogue of message ids, each in Danish and English (`routing/wording/staff.yaml`).

Pure like `routing/`, `sms/` and `ivr_flows/`: stdlib and yaml only, so the core and the adapters share it.
"""
