ALTER TYPE "public"."outbox_status" ADD VALUE 'dead';--> statement-breakpoint
CREATE TABLE "channel_pacing" (
	"channel" text PRIMARY KEY NOT NULL,
	"next_allowed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP INDEX "changes_escalation_due_idx";--> statement-breakpoint
-- Existing changes: the current round started when the change was registered (or its last new round, which the audit knows).
ALTER TABLE "changes" ADD COLUMN "round_started_at" timestamp with time zone;--> statement-breakpoint
UPDATE "changes" c SET "round_started_at" = coalesce(
  (SELECT max(a."at") FROM "audit_events" a WHERE a."change_id" = c."id" AND a."action" = 'review_round_started'),
  c."created_at");--> statement-breakpoint
ALTER TABLE "changes" ALTER COLUMN "round_started_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "in_doubt" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "dead_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "slack_messages" ADD COLUMN "permalink" text;--> statement-breakpoint
CREATE INDEX "changes_escalation_round_due_idx" ON "changes" USING btree ("escalation_step","round_started_at") WHERE status = 'pending';