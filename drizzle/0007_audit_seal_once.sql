-- The audit table stays append-only, with one exception: the sealer may set a row's hash once
-- (prev_hash and hash from NULL), changing nothing else.
CREATE OR REPLACE FUNCTION countersign_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
     AND NEW.change_id IS NOT DISTINCT FROM OLD.change_id AND NEW.data = OLD.data THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
