import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from '../errors.js';
import { checkEntry, EntryTree, ExpansionBudget, type ArchiveEntry } from './packageEntries.js';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e) => {
    assert.ok(isErrorCode(e, 'INVALID_PACKAGE'), String(e));
    assert.match((e as Error).message, message);
    return true;
  });

describe('checkEntry', () => {
  it('answers the path inside the package for files and directories', () => {
    const cases: [ArchiveEntry, string][] = [
      [{ name: 'a/b.txt', kind: 'file' }, 'a/b.txt'],
      [{ name: './a//b/', kind: 'directory' }, 'a/b'],
      [{ name: 'web\\index.html', kind: 'file' }, 'web/index.html'],
      [{ name: './', kind: 'directory' }, ''],
      [{ name: 'a..b/..c', kind: 'file' }, 'a..b/..c'],
      [{ name: 'copy', kind: 'hardlink', linkTarget: 'bin/run' }, 'copy'],
    ];
    for (const [entry, path] of cases) assert.equal(checkEntry(entry), path, entry.name);
  });

  it('refuses what would land outside the package or is not a file or directory, naming the entry', () => {
    const cases: [ArchiveEntry, RegExp][] = [
      [{ name: '../x', kind: 'file' }, /^The archive's entry '\.\.\/x' climbs out of the package/],
      [{ name: 'a/../../x', kind: 'file' }, /'a\/\.\.\/\.\.\/x' climbs out/],
      [{ name: 'a\\..\\..\\x', kind: 'file' }, /climbs out/],
      [{ name: '/etc/passwd', kind: 'file' }, /'\/etc\/passwd' has an absolute path/],
      [{ name: 'C:\\Windows\\x', kind: 'file' }, /has an absolute path/],
      [
        { name: 'l', kind: 'symlink', linkTarget: 'inside' },
        /'l' is a symbolic link \(to 'inside'\); packages may hold only files and directories/,
      ],
      [
        { name: 'h', kind: 'hardlink', linkTarget: '/etc/passwd' },
        /'h' is a hard link to '\/etc\/passwd', which is an absolute path; a link must point at a file of the package/,
      ],
      [
        { name: 'h', kind: 'hardlink', linkTarget: 'a/../../x' },
        /'h' is a hard link to 'a\/\.\.\/\.\.\/x', which climbs out of the package/,
      ],
      [{ name: 'dev', kind: 'other', typeName: 'block device' }, /'dev' is a block device/],
      [{ name: 'a\0b', kind: 'file' }, /NUL/],
      [{ name: './', kind: 'file' }, /has no file name/],
    ];
    for (const [entry, message] of cases) refused(() => checkEntry(entry), message);
  });
});

describe('EntryTree', () => {
  it('refuses a name used twice or as both a file and a directory', () => {
    const tree = new EntryTree();
    tree.add('a/b', 'file', 'a/b');
    tree.add('a', 'directory', 'a/');
    refused(() => tree.add('a/b', 'file', 'a/b'), /'a\/b' appears twice/);
    refused(() => tree.add('a/b/c', 'file', 'a/b/c'), /'a\/b\/c' is inside 'a\/b', which the archive has as a file/);
    refused(() => tree.add('a', 'file', 'a'), /'a' would replace the directory 'a' the archive already has/);
    refused(
      () => tree.add('a/b', 'directory', 'a/b/'),
      /'a\/b\/' would replace the file 'a\/b' the archive already has/,
    );
    assert.ok(tree.isFile('a/b'));
    assert.ok(!tree.isFile('a'));
  });
});

describe('ExpansionBudget', () => {
  const limits = { maxRatio: 10, ratioFloorBytes: 100, maxExpandedBytes: 1000, maxEntries: 2 };

  it('allows the larger of the floor and the ratio, up to the ceiling', () => {
    assert.equal(new ExpansionBudget(5, limits).maxBytes, 100);
    assert.equal(new ExpansionBudget(50, limits).maxBytes, 500);
    assert.equal(new ExpansionBudget(500, limits).maxBytes, 1000);
  });

  it('stops at the limit and says which one', () => {
    const budget = new ExpansionBudget(50, limits);
    budget.add(500, 'a');
    refused(
      () => budget.add(1, 'b'),
      /more than the 500-byte limit for an archive of 50 bytes \(10 times its size, at least 100 bytes\); entry 'b' goes past it/,
    );
    refused(() => new ExpansionBudget(500, limits).add(1001), /more than the 1000-byte limit for any package \(/);
    const counted = new ExpansionBudget(50, limits);
    counted.entry('1');
    counted.entry('2');
    refused(() => counted.entry('3'), /more than 2 entries \(the limit\); '3' is past it/);
  });
});
