-- In-place upgrade from v14 to v15: experiment_documents is created.
CREATE TABLE IF NOT EXISTS experiment_documents (
  id TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
  document_type TEXT NOT NULL CHECK (document_type IN ('summary','prfaq','executive_summary')),
  markdown_content TEXT NOT NULL,
  metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  generated_at TEXT NOT NULL,
  model TEXT DEFAULT 'gpt-4o-mini',
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('pending','generating','completed','failed','partial')),
  error_message TEXT,
  UNIQUE (experiment_id, document_type)
);
CREATE INDEX IF NOT EXISTS idx_experiment_documents_experiment ON experiment_documents (experiment_id);
CREATE INDEX IF NOT EXISTS idx_experiment_documents_type ON experiment_documents (document_type);
CREATE INDEX IF NOT EXISTS idx_experiment_documents_status ON experiment_documents (status);
