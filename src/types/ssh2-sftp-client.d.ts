// The parts of ssh2-sftp-client 12 this project uses. @types/ssh2-sftp-client lags the
// library (it has no `sftp` property), so the declaration lives here.
declare module 'ssh2-sftp-client' {
  import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';

  interface EventCallbacks {
    error?: (err: Error) => void;
    end?: () => void;
    close?: () => void;
  }

  class SftpClient {
    constructor(clientName?: string, callbacks?: EventCallbacks);
    /** The raw ssh2 SFTP session once connected; undefined after the connection is gone. */
    sftp: SFTPWrapper | undefined;
    /** The underlying ssh2 connection. */
    client: Client;
    connect(config: ConnectConfig & { promiseLimit?: number }): Promise<SFTPWrapper>;
    end(): Promise<boolean>;
  }
  export default SftpClient;
}
