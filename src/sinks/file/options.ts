/** The file output's flags and their checks. */
import type { Config } from '../../config/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';

export interface FileConfig {
  filePath: string;
  fileRotateBytes: number;
  fileRotateInterval: number;
  fileMode: string;
}

const MiB = 1024 * 1024;

export const fileOptions: OutputOptions = {
  name: 'file',
  summary: 'NDJSON files, one event per line, rotated by size and time, synced before the acknowledgement',
  delivery: 'at least once: a batch is acknowledged after its lines are written and fsync\'d; a resend after a crash may repeat lines (each carries rxtxMsg.uuid to deduplicate)',
  options: [
    outputOption('filePath', 'file-path', 'string', './out/rtbeat-%{+yyyy.MM.dd}.ndjson',
      'file output: path pattern (date tokens from the clock, UTC, when a file is opened; .N is added before the extension)'),
    outputOption('fileRotateBytes', 'file-rotate-bytes', 'bytes', 64 * MiB, 'file output: start a new file past this size (0: never)', { min: 0 }),
    outputOption('fileRotateInterval', 'file-rotate-interval', 'number', 3600, 'file output: seconds before a new file is started (0: never)', { min: 0 }),
    outputOption('fileMode', 'file-mode', 'string', '0640', 'file output: permissions of new files (octal)'),
  ],
  check(c: Config, name: SettingName) {
    const path = name('filePath', '--file-path');
    if (!c.filePath) throw new Error(`${path}: must not be empty`);
    if (c.filePath.endsWith('/')) throw new Error(`${path}: "${c.filePath}" names a directory, not a file pattern`);
    if (!/^0?[0-7]{3}$/.test(c.fileMode)) throw new Error(`${name('fileMode', '--file-mode')}: "${c.fileMode}" is not an octal mode like 0640`);
  },
};
