import { connect, type Socket } from 'node:net';

export interface Reply {
  code: number;
  text: string;
}

/**
 * A bare SMTP client on a real socket, for what nodemailer will not send: bare LF line ends,
 * malformed addresses, exact reply checks. Each read returns one complete (multi-line) reply.
 */
export class RawSmtp {
  private buf = '';
  private waiters: ((r: Reply) => void)[] = [];
  private ready: Reply[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.pump();
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {
      this.closed = true;
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawSmtp(s)));
      s.once('error', reject);
    });
  }

  private pump(): void {
    for (;;) {
      const lines = this.buf.split('\r\n');
      const end = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (end === -1 || end === lines.length - 1) return; // last reply line not complete yet
      const replyLines = lines.slice(0, end + 1);
      this.buf = lines.slice(end + 1).join('\r\n');
      const reply = { code: Number(replyLines[end]!.slice(0, 3)), text: replyLines.map((l) => l.slice(4)).join('\n') };
      const w = this.waiters.shift();
      if (w) w(reply);
      else this.ready.push(reply);
    }
  }

  reply(): Promise<Reply> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A string goes as UTF-8; a Buffer as its bytes (8-bit messages in other charsets). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  cmd(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Greeting, EHLO and AUTH PLAIN (the listener under test must allow AUTH without TLS). */
  static async login(port: number, serverId: number, key: string): Promise<RawSmtp> {
    const c = await RawSmtp.connect(port);
    const greeting = await c.reply();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.code} ${greeting.text}`);
    await c.cmd('EHLO client.example');
    const auth = await c.cmd(`AUTH PLAIN ${Buffer.from(`\0${serverId}\0${key}`).toString('base64')}`);
    if (auth.code !== 235) throw new Error(`AUTH: ${auth.code} ${auth.text}`);
    return c;
  }

  end(): void {
    this.socket.end();
  }
}
