CREATE TABLE "scheduled_runs" (
	"job" text NOT NULL,
	"slot" text NOT NULL,
	"ran_by" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "scheduled_runs_slot_idx" ON "scheduled_runs" USING btree ("job","slot");--> statement-breakpoint
CREATE INDEX "changes_author_idx" ON "changes" USING btree ("author_slack_id","created_at");