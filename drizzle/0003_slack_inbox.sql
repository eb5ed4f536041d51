CREATE TABLE "slack_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"locked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "slack_inbox_unprocessed_idx" ON "slack_inbox" USING btree ("received_at") WHERE processed_at is null;