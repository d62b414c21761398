/**
 * AFT_LOG as Cisco's Database Setup Guide for IM and Presence defines it on PostgreSQL: every
 * column NOT NULL, the primary key on aft_index and no other index.
 */
export const AFT_LOG_DDL = `
CREATE SEQUENCE aft_log_aft_index_seq;
CREATE TABLE aft_log (
  aft_index         BIGINT                      NOT NULL DEFAULT nextval('aft_log_aft_index_seq'),
  jid               VARCHAR(3071)               NOT NULL,
  to_jid            VARCHAR(3071)               NOT NULL,
  method            VARCHAR(63)                 NOT NULL,
  filename          VARCHAR(511)                NOT NULL,
  real_filename     VARCHAR(511)                NOT NULL,
  file_type         VARCHAR(10)                 NOT NULL,
  chat_type         VARCHAR(10)                 NOT NULL,
  file_server       VARCHAR(511)                NOT NULL,
  file_path         VARCHAR(511)                NOT NULL,
  file_size         BIGINT                      NOT NULL,
  bytes_transferred BIGINT                      NOT NULL,
  timestampvalue    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  CONSTRAINT aft_log_pkey PRIMARY KEY (aft_index)
);
ALTER SEQUENCE aft_log_aft_index_seq OWNED BY aft_log.aft_index;
`;
