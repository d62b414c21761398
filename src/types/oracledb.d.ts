// The parts of node-oracledb 6+ (thin mode) this project uses. The package ships no type
// declarations, so they live here; see src/adapters/oracle/connection.ts for how they are used.
declare module 'oracledb' {
  /** A database type constant such as DB_TYPE_TIMESTAMP_TZ (an object in node-oracledb 6+). */
  interface DbType {
    readonly name: string;
    readonly num: number;
  }

  interface BindDef {
    type: DbType | number;
    maxSize?: number;
    dir?: number;
  }

  interface Result<R> {
    rows?: R[];
    rowsAffected?: number;
    outBinds?: Record<string, unknown>;
  }

  interface Connection {
    /** Milliseconds a round trip may take; 0 = no limit. */
    callTimeout: number;
    execute<R>(sql: string, binds?: Record<string, unknown>, options?: Record<string, unknown>): Promise<Result<R>>;
    executeMany(sql: string, binds: Array<Record<string, unknown>>, options?: Record<string, unknown>): Promise<Result<never>>;
    commit(): Promise<void>;
    rollback(): Promise<void>;
    ping(): Promise<void>;
    close(): Promise<void>;
    /** Interrupts the call in progress on this connection: it fails with ORA-01013. Not queued behind it. */
    break(): Promise<void>;
  }

  interface ConnectionAttributes {
    user?: string;
    password?: string;
    connectString?: string;
    /** Seconds to establish the whole connection (thin mode). */
    connectTimeout?: number;
    /** Seconds to establish the TCP/TLS transport (thin mode). */
    transportConnectTimeout?: number;
    /** Minutes between keep-alive probes of an idle connection (dead connection detection). */
    expireTime?: number;
    walletLocation?: string;
    walletPassword?: string;
    walletContent?: string;
    sslServerDNMatch?: boolean;
  }

  interface OracleDb {
    readonly thin: boolean;
    readonly versionString: string;
    getConnection(attrs: ConnectionAttributes): Promise<Connection>;
    readonly OUT_FORMAT_OBJECT: number;
    readonly BIND_IN: number;
    readonly BIND_OUT: number;
    readonly STRING: DbType;
    readonly NUMBER: DbType;
    readonly DB_TYPE_VARCHAR: DbType;
    readonly DB_TYPE_NUMBER: DbType;
    readonly DB_TYPE_TIMESTAMP: DbType;
    readonly DB_TYPE_TIMESTAMP_TZ: DbType;
  }

  const oracledb: OracleDb;
  export default oracledb;
  export type { BindDef, Connection, ConnectionAttributes, DbType, OracleDb, Result };
}
