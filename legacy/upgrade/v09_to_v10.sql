-- In-place upgrade of the legacy application from v9 to v10: experiments.status is added
-- LAST, without the CHECK of files created at v10, and idx_experiments_status is not created.
ALTER TABLE experiments ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
