"""SMS: the pure core of texting relatives and staff (no Flask, no database, no Twilio).

- `sms.segments`: GSM-7 / UCS-2 segment counting.
- `sms.keywords`: STOP, START, HJÆLP, STATUS, RING and information keywords, from `sms/keywords.yaml`.
- `sms.catalogue` and `sms.templates`: texts per language from `sms/templates/<lang>.yaml`, rendering and checks.
- `sms.timephrase`: callback windows as people write them ("i aften mellem 17 og 21").
- `sms.ratelimit`: whether an automatic reply may go out.
"""
