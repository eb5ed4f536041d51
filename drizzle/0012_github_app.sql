CREATE TABLE "deployment_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"change_id" integer,
	"installation_id" integer NOT NULL,
	"repo" text NOT NULL,
	"callback_url" text NOT NULL,
	"github_environment" text NOT NULL,
	"environment" text NOT NULL,
	"sha" text NOT NULL,
	"answer" text,
	"comment" text,
	"answered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "github_check_runs" (
	"change_id" integer NOT NULL,
	"head_sha" text NOT NULL,
	"check_run_id" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "github_installation_id" integer;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "merge_commit_sha" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "awaiting_read" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "target" text DEFAULT 'slack' NOT NULL;--> statement-breakpoint
ALTER TABLE "deployment_requests" ADD CONSTRAINT "deployment_requests_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_check_runs" ADD CONSTRAINT "github_check_runs_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployment_requests_open_idx" ON "deployment_requests" USING btree ("change_id") WHERE answered_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "deployment_requests_callback_idx" ON "deployment_requests" USING btree ("callback_url","github_environment");--> statement-breakpoint
CREATE UNIQUE INDEX "github_check_runs_head_idx" ON "github_check_runs" USING btree ("change_id","head_sha");