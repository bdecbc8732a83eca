DROP TABLE IF EXISTS ragd_meta;
DROP INDEX IF EXISTS ix_knowledge_chunks_document;
ALTER TABLE knowledge_chunks DROP COLUMN IF EXISTS document_id;
DROP TABLE IF EXISTS knowledge_documents;
