-- W3C Trace Context of the cause, carried onto the notice.issued event (CONTRACT.md).
ALTER TABLE deliveries
    ADD COLUMN IF NOT EXISTS traceparent text,
    ADD COLUMN IF NOT EXISTS tracestate  text;
