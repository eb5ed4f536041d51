-- The audit table is append-only for the application: refuse UPDATE and DELETE (defence in depth).
CREATE OR REPLACE FUNCTION countersign_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION countersign_audit_append_only();
