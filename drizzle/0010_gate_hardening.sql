CREATE TABLE "audit_genesis" (
	"id" integer PRIMARY KEY NOT NULL,
	"first_id" bigint NOT NULL,
	"first_hash" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "input_sha256" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "pr_updated_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_id_idx" ON "webhook_deliveries" USING btree ("source","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "webhook_deliveries" USING btree ("received_at");--> statement-breakpoint
-- Environment names are compared lowercase: rows written before that are lowercased once.
UPDATE "changes" SET "environment" = lower("environment") WHERE "environment" <> lower("environment");--> statement-breakpoint
UPDATE "deployments" SET "environment" = lower("environment") WHERE "environment" <> lower("environment");--> statement-breakpoint
-- The genesis row is write-once and only the first row may exist.
ALTER TABLE "audit_genesis" ADD CONSTRAINT "audit_genesis_single_row" CHECK ("id" = 1);--> statement-breakpoint
-- An install sealed before this migration records its first sealed row as the genesis now.
INSERT INTO "audit_genesis" ("id", "first_id", "first_hash", "at")
  SELECT 1, "id", "hash", now() FROM "audit_events" WHERE "hash" IS NOT NULL ORDER BY "id" LIMIT 1;--> statement-breakpoint
CREATE OR REPLACE FUNCTION countersign_audit_write_once() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER audit_genesis_write_once BEFORE UPDATE OR DELETE ON "audit_genesis"
  FOR EACH ROW EXECUTE FUNCTION countersign_audit_write_once();--> statement-breakpoint
-- TRUNCATE fires no row triggers: refuse it with statement triggers on both tables.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_audit_write_once();--> statement-breakpoint
CREATE TRIGGER audit_genesis_no_truncate BEFORE TRUNCATE ON "audit_genesis"
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_audit_write_once();
