CREATE TABLE "reviewer_away" (
	"user_id" text PRIMARY KEY NOT NULL,
	"since" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "plan_sha256" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "merged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "breakglass_by" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "breakglass_reason" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "breakglass_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "assigned_to" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "assigned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sign_offs" ADD COLUMN "plan_sha256" text;--> statement-breakpoint
CREATE INDEX "audit_events_unsealed_idx" ON "audit_events" USING btree ("id") WHERE hash is null;