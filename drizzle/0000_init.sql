CREATE TYPE "public"."change_status" AS ENUM('pending', 'approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."decision" AS ENUM('approved', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."risk_level" AS ENUM('low', 'medium', 'high', 'critical');--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"change_id" integer,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"url" text,
	"services" text[] NOT NULL,
	"environment" text NOT NULL,
	"team" text NOT NULL,
	"author" jsonb NOT NULL,
	"author_slack_id" text,
	"ai" jsonb NOT NULL,
	"ai_assisted" boolean NOT NULL,
	"labels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"commits" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"head_sha" text,
	"diff" jsonb,
	"infra" jsonb,
	"risk_level" "risk_level" NOT NULL,
	"risk_reasons" jsonb NOT NULL,
	"approvals_required" integer NOT NULL,
	"status" "change_status" NOT NULL,
	"round" integer DEFAULT 1 NOT NULL,
	"submitted_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sign_offs" (
	"id" serial PRIMARY KEY NOT NULL,
	"change_id" integer NOT NULL,
	"reviewer" text NOT NULL,
	"decision" "decision" NOT NULL,
	"reason" text,
	"round" integer NOT NULL,
	"head_sha" text,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sign_offs" ADD CONSTRAINT "sign_offs_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_change_idx" ON "audit_events" USING btree ("change_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "changes_source_external_id_idx" ON "changes" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "changes_status_created_idx" ON "changes" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "changes_created_idx" ON "changes" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sign_offs_once_per_round_idx" ON "sign_offs" USING btree ("change_id","round","reviewer");