import { describe, it, expect } from 'vitest';
import { normaliseNodeDirectory, parseFilePath, type PathRejection } from '../../src/core/filePath.js';

const NODE = '/opt/mftFileStore/node_1';
const F = `${NODE}/files`;

interface Valid {
  name: string;
  path: string;
  chatType: string;
  hourStart: string;
  dateFolder: string;
  hourFolder: string;
  fileName: string;
}

const VALID: Valid[] = [
  { name: 'plain HH folder', path: `${F}/groupchat/20140811/16/file_name`, chatType: 'groupchat', hourStart: '2014-08-11T16:00:00.000Z', dateFolder: '20140811', hourFolder: '16', fileName: 'file_name' },
  { name: 'roll-over HH.1 folder (the 1,001st+ file of the hour)', path: `${F}/groupchat/20140811/16.1/file_name`, chatType: 'groupchat', hourStart: '2014-08-11T16:00:00.000Z', dateFolder: '20140811', hourFolder: '16.1', fileName: 'file_name' },
  { name: 'roll-over HH.12 folder', path: `${F}/im/20140811/16.12/a.jpg`, chatType: 'im', hourStart: '2014-08-11T16:00:00.000Z', dateFolder: '20140811', hourFolder: '16.12', fileName: 'a.jpg' },
  { name: 'largest roll-over number (6 digits)', path: `${F}/im/20140811/16.999999/a`, chatType: 'im', hourStart: '2014-08-11T16:00:00.000Z', dateFolder: '20140811', hourFolder: '16.999999', fileName: 'a' },
  { name: 'hour 00', path: `${F}/persistent/20240101/00/x`, chatType: 'persistent', hourStart: '2024-01-01T00:00:00.000Z', dateFolder: '20240101', hourFolder: '00', fileName: 'x' },
  { name: 'hour 23', path: `${F}/persistent/20241231/23/x`, chatType: 'persistent', hourStart: '2024-12-31T23:00:00.000Z', dateFolder: '20241231', hourFolder: '23', fileName: 'x' },
  { name: 'leap day 20240229', path: `${F}/im/20240229/12/x`, chatType: 'im', hourStart: '2024-02-29T12:00:00.000Z', dateFolder: '20240229', hourFolder: '12', fileName: 'x' },
  { name: 'leap day of a century leap year 20000229', path: `${F}/im/20000229/12/x`, chatType: 'im', hourStart: '2000-02-29T12:00:00.000Z', dateFolder: '20000229', hourFolder: '12', fileName: 'x' },
  { name: 'file name with non-ASCII characters', path: `${F}/im/20240301/09/Überweisung_日本語_🎉.pdf`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: 'Überweisung_日本語_🎉.pdf' },
  { name: 'file name with % and _ (LIKE wildcards are just characters)', path: `${F}/im/20240301/09/100%_done_%.txt`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: '100%_done_%.txt' },
  { name: 'file name with a backslash', path: `${F}/im/20240301/09/a\\b\\..\\c`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: 'a\\b\\..\\c' },
  { name: 'file name with single and double quotes', path: `${F}/im/20240301/09/it's "quoted"'; DROP TABLE aft_log;--`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: `it's "quoted"'; DROP TABLE aft_log;--` },
  { name: 'file name that starts with dots but is not . or ..', path: `${F}/im/20240301/09/...`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: '...' },
  { name: 'hidden file name', path: `${F}/im/20240301/09/.hidden`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: '.hidden' },
  { name: 'file name with spaces', path: `${F}/im/20240301/09/ my file .txt `, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: ' my file .txt ' },
  { name: 'the longest file name a file system allows (255 bytes)', path: `${F}/im/20240301/09/${'a'.repeat(255)}`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: 'a'.repeat(255) },
  { name: 'a 255-byte file name of 85 three-byte characters', path: `${F}/im/20240301/09/${'日'.repeat(85)}`, chatType: 'im', hourStart: '2024-03-01T09:00:00.000Z', dateFolder: '20240301', hourFolder: '09', fileName: '日'.repeat(85) },
];

describe('parseFilePath accepts the MFT layout <node dir>/files/<chat_type>/YYYYMMDD/HH[.n]/<file_name>', () => {
  it.each(VALID)('accepts $name', (c) => {
    const r = parseFilePath(c.path, NODE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.chatType).toBe(c.chatType);
    expect(r.value.hourStart.toISOString()).toBe(c.hourStart);
    expect(r.value.dateFolder).toBe(c.dateFolder);
    expect(r.value.hourFolder).toBe(c.hourFolder);
    expect(r.value.fileName).toBe(c.fileName);
    expect(r.value.hourDir).toBe(`${F}/${c.chatType}/${c.dateFolder}/${c.hourFolder}`);
  });

  it('gives the hour folder as the file\'s parent directory', () => {
    const r = parseFilePath(`${F}/groupchat/20140811/16.1/file_name`, NODE);
    expect(r).toMatchObject({ ok: true, value: { hourDir: `${F}/groupchat/20140811/16.1` } });
  });

  it('works with a node directory at the top level', () => {
    const r = parseFilePath('/mft/files/im/20240301/09/x', '/mft');
    expect(r.ok).toBe(true);
  });
});

interface Invalid {
  name: string;
  path: string | null | undefined;
  reason: PathRejection;
}

const INVALID: Invalid[] = [
  // empty
  { name: 'null path', path: null, reason: 'empty-path' },
  { name: 'undefined path', path: undefined, reason: 'empty-path' },
  { name: 'empty path', path: '', reason: 'empty-path' },
  // control characters
  { name: 'NUL in the file name', path: `${F}/im/20240301/09/a\u0000b`, reason: 'bad-characters' },
  { name: 'NUL that truncates to another path', path: `${F}/im/20240301/09/x\u0000/../../../../etc/passwd`, reason: 'bad-characters' },
  { name: 'newline in the file name', path: `${F}/im/20240301/09/a\nb`, reason: 'bad-characters' },
  { name: 'carriage return in the file name', path: `${F}/im/20240301/09/a\rb`, reason: 'bad-characters' },
  { name: 'tab in the file name', path: `${F}/im/20240301/09/a\tb`, reason: 'bad-characters' },
  { name: 'escape (terminal control) in the file name', path: `${F}/im/20240301/09/a\u001b[31mb`, reason: 'bad-characters' },
  { name: 'DEL in the file name', path: `${F}/im/20240301/09/a\u007fb`, reason: 'bad-characters' },
  { name: 'newline in the node directory part', path: `/opt/mftFileStore/node_1\n/files/im/20240301/09/x`, reason: 'bad-characters' },
  // outside the node directory
  { name: 'another node whose name extends ours (node_10)', path: '/opt/mftFileStore/node_10/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'another node (node_2)', path: '/opt/mftFileStore/node_2/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'the node directory itself', path: NODE, reason: 'outside-directory' },
  { name: 'the files directory without a trailing slash', path: `${NODE}/files`, reason: 'outside-directory' },
  { name: 'a file next to files/', path: `${NODE}/im/20240301/09/x`, reason: 'outside-directory' },
  { name: 'an absolute path elsewhere', path: '/etc/passwd', reason: 'outside-directory' },
  { name: 'an absolute path elsewhere with the right shape', path: '/tmp/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'a relative path', path: 'opt/mftFileStore/node_1/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'a path relative to the node directory', path: 'files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'double slash inside the node directory', path: '/opt//mftFileStore/node_1/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'double slash after the node directory', path: `${NODE}//files/im/20240301/09/x`, reason: 'outside-directory' },
  { name: '.. inside the node directory part', path: '/opt/mftFileStore/node_2/../node_1/files/im/20240301/09/x', reason: 'outside-directory' },
  { name: 'Files in another case', path: `${NODE}/Files/im/20240301/09/x`, reason: 'outside-directory' },
  { name: 'a Windows-style path', path: 'C:\\opt\\mftFileStore\\node_1\\files\\im\\20240301\\09\\x', reason: 'outside-directory' },
  { name: 'a file:// URL', path: `file://${F}/im/20240301/09/x`, reason: 'outside-directory' },
  // . .. and empty segments after files/
  { name: '.. as the file name', path: `${F}/im/20240301/09/..`, reason: 'bad-path' },
  { name: '. as the file name', path: `${F}/im/20240301/09/.`, reason: 'bad-path' },
  { name: '.. escaping to another node', path: `${F}/im/20240301/../../../../node_2/files/im/x`, reason: 'bad-path' },
  { name: '.. in place of the hour folder', path: `${F}/im/20240301/../x`, reason: 'bad-path' },
  { name: '. in place of the date folder', path: `${F}/im/./09/x`, reason: 'bad-path' },
  { name: 'a double slash after files/', path: `${F}//im/20240301/09/x`, reason: 'bad-path' },
  { name: 'a double slash before the file name', path: `${F}/im/20240301/09//x`, reason: 'bad-path' },
  { name: 'a trailing slash (a directory, not a file)', path: `${F}/im/20240301/09/`, reason: 'bad-path' },
  { name: 'a trailing slash after the file name', path: `${F}/im/20240301/09/x/`, reason: 'bad-path' },
  // segments
  { name: 'an extra segment (sub-directory under the hour)', path: `${F}/im/20240301/09/sub/x`, reason: 'bad-path' },
  { name: 'a missing file name (the hour folder itself)', path: `${F}/im/20240301/09`, reason: 'bad-path' },
  { name: 'a missing hour folder', path: `${F}/im/20240301/x`, reason: 'bad-path' },
  { name: 'only the chat type folder', path: `${F}/im`, reason: 'bad-path' },
  { name: 'nothing after files/', path: `${F}/`, reason: 'bad-path' },
  // file name no file system can hold: it could never be removed
  { name: 'a file name of 256 bytes', path: `${F}/im/20240301/09/${'a'.repeat(256)}`, reason: 'bad-path' },
  { name: 'a file name of 86 three-byte characters (258 bytes)', path: `${F}/im/20240301/09/${'日'.repeat(86)}`, reason: 'bad-path' },
  { name: 'a file name of 10,000 characters', path: `${F}/im/20240301/09/${'a'.repeat(10_000)}`, reason: 'bad-path' },
  // chat type folder
  { name: 'an unknown chat type folder', path: `${F}/video/20240301/09/x`, reason: 'bad-path' },
  { name: 'a chat type folder in another case', path: `${F}/IM/20240301/09/x`, reason: 'bad-path' },
  { name: 'a chat type folder with a trailing space', path: `${F}/im /20240301/09/x`, reason: 'bad-path' },
  // date folder
  { name: 'a non-leap-year 29 February (20230229)', path: `${F}/im/20230229/12/x`, reason: 'bad-date-folder' },
  { name: 'a century non-leap year 29 February (21000229)', path: `${F}/im/21000229/12/x`, reason: 'bad-date-folder' },
  { name: 'month 13 (20241340)', path: `${F}/im/20241340/12/x`, reason: 'bad-date-folder' },
  { name: 'day 40 of a valid month (20241240)', path: `${F}/im/20241240/12/x`, reason: 'bad-date-folder' },
  { name: 'day 31 of April (20240431)', path: `${F}/im/20240431/12/x`, reason: 'bad-date-folder' },
  { name: 'month 00', path: `${F}/im/20240001/12/x`, reason: 'bad-date-folder' },
  { name: 'day 00', path: `${F}/im/20240100/12/x`, reason: 'bad-date-folder' },
  { name: 'a date with dashes', path: `${F}/im/2024-03-01/12/x`, reason: 'bad-date-folder' },
  { name: 'a 7-digit date', path: `${F}/im/2024031/12/x`, reason: 'bad-date-folder' },
  { name: 'a 9-digit date', path: `${F}/im/202403011/12/x`, reason: 'bad-date-folder' },
  { name: 'a date with non-ASCII digits', path: `${F}/im/２０２４０３０１/12/x`, reason: 'bad-date-folder' },
  { name: 'a date with Arabic-Indic digits', path: `${F}/im/٢٠٢٤٠٣٠١/12/x`, reason: 'bad-date-folder' },
  // hour folder
  { name: 'hour 24', path: `${F}/im/20240301/24/x`, reason: 'bad-hour-folder' },
  { name: 'hour 25', path: `${F}/im/20240301/25/x`, reason: 'bad-hour-folder' },
  { name: 'a one-digit hour (1)', path: `${F}/im/20240301/1/x`, reason: 'bad-hour-folder' },
  { name: 'a three-digit hour (001)', path: `${F}/im/20240301/001/x`, reason: 'bad-hour-folder' },
  { name: 'roll-over number 0 (16.0)', path: `${F}/im/20240301/16.0/x`, reason: 'bad-hour-folder' },
  { name: 'roll-over number with a leading zero (16.01)', path: `${F}/im/20240301/16.01/x`, reason: 'bad-hour-folder' },
  { name: 'roll-over number with 7 digits', path: `${F}/im/20240301/16.1000000/x`, reason: 'bad-hour-folder' },
  { name: 'an empty roll-over number (16.)', path: `${F}/im/20240301/16./x`, reason: 'bad-hour-folder' },
  { name: 'two roll-over numbers (16.1.2)', path: `${F}/im/20240301/16.1.2/x`, reason: 'bad-hour-folder' },
  { name: 'a negative roll-over number (16.-1)', path: `${F}/im/20240301/16.-1/x`, reason: 'bad-hour-folder' },
  { name: 'an hour with minutes (16:00)', path: `${F}/im/20240301/16:00/x`, reason: 'bad-hour-folder' },
  { name: 'an hour with non-ASCII digits', path: `${F}/im/20240301/１６/x`, reason: 'bad-hour-folder' },
  { name: 'an hour with a leading space', path: `${F}/im/20240301/ 16/x`, reason: 'bad-hour-folder' },
];

describe('parseFilePath rejects anything else, with a reason', () => {
  it.each(INVALID)('rejects $name as $reason', (c) => {
    const r = parseFilePath(c.path, NODE);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(c.reason);
    expect(r.detail.length).toBeGreaterThan(0);
  });

  it('names the unknown chat type folder in the detail', () => {
    const r = parseFilePath(`${F}/video/20240301/09/x`, NODE);
    expect(r).toMatchObject({ ok: false, reason: 'bad-path' });
    if (!r.ok) expect(r.detail).toContain('video');
  });

  it('accepts a path that another node directory (node_10) would own only when parsing for node_10', () => {
    const path = '/opt/mftFileStore/node_10/files/im/20240301/09/x';
    expect(parseFilePath(path, '/opt/mftFileStore/node_1').ok).toBe(false);
    expect(parseFilePath(path, '/opt/mftFileStore/node_10').ok).toBe(true);
  });

  // Regression (was a bug in src/core/filePath.ts CONTROL_CHARS): only C0 controls and DEL are rejected; the C1
  // controls U+0080-U+009F (Unicode category Cc, e.g. NEL U+0085, 8-bit CSI U+009B) pass, although
  // they confuse logs and terminals exactly as the C0 ones do.
  it.each([
    ['NEL U+0085', '\u0085'],
    ['CSI U+009B', '\u009b'],
    ['PAD U+0080', '\u0080'],
  ])('rejects the C1 control character %s in the file name as bad-characters', (_name, ch) => {
    const r = parseFilePath(`${F}/im/20240301/09/a${ch}b`, NODE);
    expect(r).toMatchObject({ ok: false, reason: 'bad-characters' });
  });
});

describe('parseFilePath gives the same answer whatever it parsed before', () => {
  // Rows of one hour folder come in runs: a path right after another of its folder takes a
  // shorter way. It must come to the same answer as a path parsed on its own.
  const hourFolderOf = (path: string): string | undefined => /^(.*\/files\/[^/]+\/[^/]+\/[^/]+\/)/.exec(path)?.[1];
  const cases: Array<string | null | undefined> = [...VALID.map((c) => c.path), ...INVALID.map((c) => c.path)];
  it.each(cases.map((path) => [JSON.stringify(path)?.slice(0, 80), path]))('%s', (_label, path) => {
    parseFilePath(`${F}/groupchat/19991231/23/other`, NODE);
    const alone = parseFilePath(path, NODE);
    // The folder of this very path, with a valid name in it, parsed just before.
    parseFilePath(`${F}/im/20240301/09/ok.txt`, NODE);
    const folder = typeof path === 'string' ? hourFolderOf(path) : undefined;
    if (folder) parseFilePath(`${folder}ok.txt`, NODE);
    const afterSameFolder = parseFilePath(path, NODE);
    expect(afterSameFolder).toEqual(alone);
  });

  it('does not take the folder of another node directory for its own', () => {
    expect(parseFilePath('/opt/mftFileStore/node_1/files/im/20240301/09/a', '/opt/mftFileStore/node_1').ok).toBe(true);
    expect(parseFilePath('/opt/mftFileStore/node_1/files/im/20240301/09/b', '/opt/mftFileStore/node_1/files/im/20240301/09')).toMatchObject({ ok: false, reason: 'outside-directory' });
    expect(parseFilePath('/opt/mftFileStore/node_1/files/im/20240301/09/c', '/opt/mftFileStore/node_2')).toMatchObject({ ok: false, reason: 'outside-directory' });
  });
});

describe('normaliseNodeDirectory', () => {
  it.each([
    ['/opt/mftFileStore/node_1', '/opt/mftFileStore/node_1'],
    ['/opt/mftFileStore/node_1/', '/opt/mftFileStore/node_1'],
    ['/opt/mftFileStore/node_1///', '/opt/mftFileStore/node_1'],
    ['/mft', '/mft'],
    ['/opt/mft store/node 1', '/opt/mft store/node 1'],
    ['/opt/.mft/node_1', '/opt/.mft/node_1'],
    ['/opt/mftFileStore/node_1...', '/opt/mftFileStore/node_1...'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normaliseNodeDirectory(input)).toBe(expected);
  });

  it.each([
    ['the root directory', '/'],
    ['an empty string', ''],
    ['a relative directory', 'opt/mftFileStore/node_1'],
    ['a ./ relative directory', './node_1'],
    ['a home-relative directory', '~/node_1'],
    ['a .. segment', '/opt/mftFileStore/../node_1'],
    ['a trailing .. segment', '/opt/mftFileStore/node_1/..'],
    ['a . segment', '/opt/./mftFileStore/node_1'],
    ['a trailing . segment', '/opt/mftFileStore/node_1/.'],
    ['a double slash inside', '/opt//mftFileStore/node_1'],
    ['a leading double slash', '//opt/mftFileStore/node_1'],
    ['a NUL', '/opt/mftFileStore/node_1\u0000'],
    ['a newline', '/opt/mftFileStore/node_1\n'],
    ['a carriage return', '/opt/mft\rFileStore/node_1'],
  ])('rejects %s (%j)', (_name, input) => {
    expect(normaliseNodeDirectory(input)).toBeUndefined();
  });

  // Regression (was a bug in src/core/filePath.ts normaliseNodeDirectory): for "//" or "///" the trailing-slash strip
  // leaves "", which passes the checks and is returned as "" instead of undefined. A caller that
  // tests `=== undefined` would then use "" and accept every path under "/files/".
  it.each(['//', '///'])('rejects the root directory written as %j (returns undefined, not "")', (input) => {
    expect(normaliseNodeDirectory(input)).toBeUndefined();
  });

  it('gives a directory that parseFilePath uses as-is', () => {
    const dir = normaliseNodeDirectory('/opt/mftFileStore/node_1/')!;
    expect(parseFilePath(`${dir}/files/im/20240301/09/x`, dir).ok).toBe(true);
  });
});
