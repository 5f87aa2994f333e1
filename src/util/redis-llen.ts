// The length of one Redis list, for the autoscaler's `redis_list` target: a connection of its own
// per reading (cheap on loopback, nothing to keep alive or reconnect), the commands pipelined in
// RESP (AUTH and SELECT when the url asks, then LLEN), a deadline for the whole exchange, and every
// failure a rejected promise with a sentence for `herd events`, never an exception elsewhere.
import { connect } from 'node:net';

export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

/** More than any answer to these commands: a peer sending more is not Redis. */
const MAX_REPLY_BYTES = 64 * 1024;

export function listLength(addr: RedisAddress, list: string, timeoutMs: number): Promise<number> {
  const commands: string[][] = [];
  if (addr.password !== undefined)
    commands.push(addr.username ? ['AUTH', addr.username, addr.password] : ['AUTH', addr.password]);
  if (addr.db !== undefined) commands.push(['SELECT', String(addr.db)]);
  commands.push(['LLEN', list]);
  const where = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.host, port: addr.port });
    let buf = '';
    let done = false;
    const finish = (err: Error | undefined, n?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(n as number);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${where} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(commands.map(encode).join('')));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(new Error(`cannot reach ${where}: ${err.code ?? err.message}`)),
    );
    socket.on('close', () => finish(new Error(`${where} closed the connection without answering`)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY_BYTES) return finish(new Error(`${where} is not Redis`));
      const lines = buf.split('\r\n');
      // Every answer to these commands is one line; the last piece is still incomplete.
      if (lines.length - 1 < commands.length) return;
      for (const [i, line] of lines.slice(0, commands.length).entries()) {
        const c = commands[i]![0]!;
        if (line.startsWith('-')) return finish(new Error(`${c}: ${line.slice(1)}`));
        if (c === 'LLEN' && /^:\d+$/.test(line)) return finish(undefined, Number(line.slice(1)));
        if (c === 'LLEN' || !line.startsWith('+'))
          return finish(new Error(`${where} is not Redis (answered ${JSON.stringify(line)})`));
      }
    });
  });
}

/** A command as a RESP array of bulk strings. */
function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}
