import { GafferError, StorageFullError, StorageUnavailableError } from '../../core/errors.js';

/**
 * What SQLite's error codes mean for someone running gaffer, and what to do:
 * its own messages ("database or disk is full", "disk I/O error") name
 * neither the file nor a way out. Any other error passes through as it is.
 */
export function storageError(error: unknown, file: string): unknown {
  if (error instanceof GafferError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const options = { cause: error };
  // The shared-memory file beside a WAL database is made when it is first opened: that fails on a full disk as this.
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE') {
    return new StorageFullError(
      `the disk that holds the gaffer database ${file} is full: nothing was written; free space on it, or move the data with --data / GAFFER_DATA`,
      options,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StorageUnavailableError(`the gaffer database ${file} is read-only for this process: nothing was written; check the permissions of the file and its directory`, options);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StorageUnavailableError(`could not read or write the gaffer database ${file} (${code}); check the disk it is on (dmesg)`, options);
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StorageUnavailableError(`${file} is damaged or is not a gaffer database (${code}); point --data / GAFFER_DATA at the right directory`, options);
  }
  return error;
}
