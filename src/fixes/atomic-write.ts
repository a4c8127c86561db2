import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replace a file's contents so that at every instant the path holds either the old file or the new one:
 * write a temporary file in the same directory, give it the original's owner, mode and extended attributes
 * (SELinux labels included), fsync it, rename it over the original, fsync the directory.
 */
export function atomicReplace(hostPath: string, text: string): void {
  const dir = path.dirname(hostPath);
  const st = fs.statSync(hostPath);
  const tmp = path.join(dir, `.${path.basename(hostPath)}.bindcheck-${process.pid}-${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, st.mode & 0o7777);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    copyAttributes(hostPath, tmp, st);
    fs.renameSync(tmp, hostPath);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/**
 * Owner and mode with Node; extended attributes (security.selinux included, which --preserve=xattr copies when the kernel allows) with GNU cp, which Node cannot
 * read or write. `--attributes-only` leaves the temporary file's new contents alone.
 */
function copyAttributes(from: string, to: string, st: fs.Stats): void {
  try {
    fs.chownSync(to, st.uid, st.gid);
  } catch {
    // Not root: the file keeps our uid, as any editor run by this user would leave it.
  }
  fs.chmodSync(to, st.mode & 0o7777);
  try {
    execFileSync('cp', ['--attributes-only', '--preserve=xattr', '--no-dereference', from, to], { stdio: 'ignore' });
  } catch {
    // No xattrs to copy, or a filesystem without them: nothing is lost that existed.
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A backup of the original next to it, as a hard link (instant, keeps every attribute); a copy across devices. */
export function backupFile(hostPath: string): string {
  let backup = `${hostPath}.bindcheck-bak`;
  for (let i = 1; fs.existsSync(backup); i++) backup = `${hostPath}.bindcheck-bak.${i}`;
  try {
    fs.linkSync(hostPath, backup);
  } catch {
    fs.copyFileSync(hostPath, backup, fs.constants.COPYFILE_EXCL);
  }
  return backup;
}
