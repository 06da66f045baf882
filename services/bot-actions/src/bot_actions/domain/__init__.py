"""bot-actions' pure logic: no I/O, no FastStream, no simple-salesforce.

`values` resolves placeholders and writes typed SOQL literals, `records` checks a create
against the object's describe, `queries` builds and checks the find queries, `replies`
turns results into the contract's replies, `errors` is the one failure type.
It uses only the pure parts of `chat_salesforce` (escaping, templates, describe values).
"""
