DROP INDEX IF EXISTS ix_knowledge_chunks_trgm;
DROP INDEX IF EXISTS ix_knowledge_chunks_tsv;
ALTER TABLE knowledge_chunks DROP COLUMN IF EXISTS content_tsv;
