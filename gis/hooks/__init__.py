"""Webhooks of the change feed: subscribers (``subscribers``), signing (``signing``) and the
delivery worker (``worker``) that posts the durable outbox (``spp.webhook_outbox``, written by
``gis.changefeed`` in the transaction of each change) to them, at least once.

A delivery is an HTTP POST of a JSON body (``gis.changefeed.payload``) with the headers of
the Standard Webhooks specification (https://www.standardwebhooks.com/):

- ``webhook-id``: ``spp-<outbox id>``, the same on every retry of one delivery, so a receiver
  can drop a repeat (deliveries are at least once);
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, where
  the key is the hook's secret: the bytes after ``whsec_`` base64-decoded for a secret of that
  form (the ones ``gis hooks add`` makes), else the secret's UTF-8 bytes. A receiver checks it
  in constant time and refuses a timestamp more than a few minutes old (replays).
"""
