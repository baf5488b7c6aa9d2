-- Start-up looks for events not yet in their chain (service::audit::
-- chain_unchained: rows from before 0014). Without this index that look
-- reads the whole audit log at every start; with it, an empty index.
CREATE INDEX audit_events_unchained_idx ON audit_events (organization_id) WHERE seq IS NULL;
