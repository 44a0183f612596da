import { createTransport } from 'nodemailer';

/** One message over SMTP from a trusted network (no AUTH); true when the server answered 250. */
export async function sendOverSmtp(port: number, to: string): Promise<boolean> {
  const t = createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  });
  try {
    const info = await t.sendMail({ from: 'f@example.com', to, subject: 'smtp', text: 'T' });
    return /^250/.test(info.response);
  } finally {
    t.close();
  }
}
