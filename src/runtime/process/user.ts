// Resolves Compose's `user:` (name, uid, name:group or uid:gid) to numeric ids via /etc/passwd
// and /etc/group, so a replica can run as e.g. Debian's `postgres` user.
import { readFileSync } from 'node:fs';
import { HerdError } from '../../util/errors.ts';

export interface UserIds {
  uid: number;
  gid: number;
  /** Login name and home from /etc/passwd, when the user has an entry. */
  name?: string;
  home?: string;
}

function readDb(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** `service` names the owner for the error message. */
export function resolveUser(user: string, service: string): UserIds {
  const [userPart = '', groupPart] = user.split(':');
  const passwd = readDb('/etc/passwd');
  let uid: number;
  let gid: number | undefined;
  let entry: string[] | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((e) => e[2] === userPart);
    gid = entry ? Number(entry[3]) : uid;
  } else {
    entry = passwd.find((e) => e[0] === userPart);
    if (!entry) {
      throw new HerdError(
        `service "${service}": user "${userPart}" does not exist on this machine (not in /etc/passwd); ` +
          'create it or set `user:` to an existing name or a numeric uid',
      );
    }
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = readDb('/etc/group').find((e) => e[0] === groupPart);
      if (!entry) {
        throw new HerdError(
          `service "${service}": group "${groupPart}" does not exist on this machine (not in /etc/group)`,
        );
      }
      gid = Number(entry[2]);
    }
  }
  return { uid, gid: gid ?? uid, name: entry?.[0], home: entry?.[5] };
}
