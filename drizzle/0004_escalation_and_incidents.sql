CREATE TYPE "public"."deployment_status" AS ENUM('succeeded', 'failed', 'rolled_back');--> statement-breakpoint
CREATE TYPE "public"."incident_status" AS ENUM('open', 'resolved');--> statement-breakpoint
CREATE TYPE "public"."severity" AS ENUM('sev1', 'sev2', 'sev3', 'sev4');--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" serial PRIMARY KEY NOT NULL,
	"change_id" integer NOT NULL,
	"service" text NOT NULL,
	"environment" text NOT NULL,
	"status" "deployment_status" NOT NULL,
	"ungated" boolean NOT NULL,
	"deployed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_causes" (
	"id" serial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"change_id" integer NOT NULL,
	"confirmed_by" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"severity" "severity" NOT NULL,
	"services" text[] NOT NULL,
	"status" "incident_status" NOT NULL,
	"source" text NOT NULL,
	"external_id" text,
	"started_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"declared_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "escalation_step" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_causes" ADD CONSTRAINT "incident_causes_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_causes" ADD CONSTRAINT "incident_causes_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployments_env_service_time_idx" ON "deployments" USING btree ("environment","service","deployed_at");--> statement-breakpoint
CREATE INDEX "deployments_change_idx" ON "deployments" USING btree ("change_id");--> statement-breakpoint
CREATE UNIQUE INDEX "incident_causes_once_idx" ON "incident_causes" USING btree ("incident_id","change_id");--> statement-breakpoint
CREATE INDEX "incidents_source_external_idx" ON "incidents" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "incidents_status_idx" ON "incidents" USING btree ("status","started_at");--> statement-breakpoint
CREATE INDEX "changes_escalation_due_idx" ON "changes" USING btree ("escalation_step","created_at") WHERE status = 'pending';