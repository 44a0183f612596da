/**
 * smtp-server 3.21.6 without its fixed pause before the greeting. Written against that release,
 * whose SMTPConnection.init() waits a hard-coded 100 ms (`setTimeout(() => this.connectionReady(),
 * 100)`, to catch clients that talk before the greeting) and has no option to turn it off. A client
 * that opens a connection per message waited that long for every message. Postline's own pause,
 * when an operator wants one, is POSTLINE_SMTP_GREETING_DELAY_MS in the listeners' onConnect.
 *
 * The override is the library's init() without the timer: the same listeners and maxClients check,
 * then connectionReady() at once. Clients that talk before the greeting are still refused ("You talk
 * too soon") while a configured pause or a reverse DNS lookup holds it.
 *
 * Why: the pause capped a client that opens a connection per message at about 200 messages/s over
 * 20 connections. test/smtp/greeting-pause.test.ts checks the timers before the greeting, and
 * test/patches/smtp-server.test.ts that a session gets the same replies from both servers.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { patchApplies } from './switch.js';

/** The smtp-server release this override was written against (see the file comment). */
export const PATCHED_SMTP_SERVER_VERSION = '3.21.6';

class ConnectionWithoutGreetingPause extends SMTPConnection {
  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      }
      this.connectionReady();
    });
  }
}

/** An SMTPServer whose connections greet as soon as onConnect lets them (no 100 ms wait). */
export class SMTPServerWithoutGreetingPause extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
    // smtp-server's connect(), with the connection class above.
    const connection = new ConnectionWithoutGreetingPause(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}

/**
 * The SMTP server class for Postline's listeners: the one above when the switch and the installed
 * release allow it, else smtp-server's own (which waits 100 ms before each greeting).
 */
export function smtpServerClass(): typeof SMTPServer {
  return patchApplies('smtp-server', PATCHED_SMTP_SERVER_VERSION, 'smtp-server greeting without pause') ? SMTPServerWithoutGreetingPause : SMTPServer;
}
