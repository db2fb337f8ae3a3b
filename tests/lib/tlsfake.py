#!/usr/bin/env python3
"""tlsfake.py: a scripted SMTP server with TLS for tests/sys/remotetls.t.

Serves connections one after the other on 127.0.0.1 (or --bind), port 0;
prints the port on the first line of stdout. Options:
  --cert PEM --key PEM   the server's certificate and key
  --smtps                TLS from the first byte (else STARTTLS is offered)
  --no-starttls          do not offer STARTTLS
  --starttls-close       offer STARTTLS, and close the connection when asked
  --starttls-refuse      offer STARTTLS, answer 454
  --starttls-garbage     answer STARTTLS with 220, then bytes that are no
                         TLS, and close (a broken TLS stack)
  --starttls-inject      answer STARTTLS with 220 and, in the same write, a
                         plain-text "250 injected" (a response injection)
  --stall                (with --smtps, or after STARTTLS's 220) read the
                         ClientHello and then say nothing until the client
                         goes away
  --auth MECHS           advertise "AUTH MECHS" (after TLS if STARTTLS is
                         offered); --user U --password P: the accepted pair
                         (PLAIN and LOGIN); a failed AUTH answers
                         "535 5.7.8 bad credentials for <what was sent>"
  --require-auth         refuse MAIL (530) before a successful AUTH
  --client-ca PEM        require a client certificate from this CA (the
                         handshakes log gets client=CN)
  --lifetime S           exit after S seconds (default 60)
Logs in --logdir: "connections" (one line a connection), "handshakes"
(one line a completed handshake: version cipher sni=NAME), conn-N.cmds
(the commands, AUTH lines included as sent), conn-N.data (the messages).
"""
import argparse, base64, os, socket, ssl, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument('--cert'); ap.add_argument('--key')
ap.add_argument('--bind', default='127.0.0.1')
ap.add_argument('--smtps', action='store_true')
ap.add_argument('--no-starttls', action='store_true')
ap.add_argument('--starttls-close', action='store_true')
ap.add_argument('--starttls-refuse', action='store_true')
ap.add_argument('--starttls-inject', action='store_true')
ap.add_argument('--starttls-garbage', action='store_true')
ap.add_argument('--client-ca')
ap.add_argument('--stall', action='store_true')
ap.add_argument('--auth', default='')
ap.add_argument('--user', default=''); ap.add_argument('--password', default='')
ap.add_argument('--require-auth', action='store_true')
ap.add_argument('--lifetime', type=float, default=60)
ap.add_argument('--logdir', required=True)
a = ap.parse_args()

sni = {}
ctx = None
if a.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.sni_callback = lambda obj, name, c: sni.__setitem__('name', name)
    if a.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(a.client_ca)

def log(name, line):
    with open(os.path.join(a.logdir, name), 'a') as f:
        f.write(line + '\n')

class Conn:
    def __init__(self, s, n):
        self.s, self.n, self.buf, self.tls, self.authed = s, n, b'', False, False

    def send(self, line):
        self.s.sendall(line.encode() + b'\r\n')

    def line(self):
        while b'\n' not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        l, self.buf = self.buf.split(b'\n', 1)
        l = l.rstrip(b'\r').decode('latin-1')
        log('conn-%d.cmds' % self.n, l)
        return l

    def handshake(self):
        if a.stall:
            self.s.settimeout(a.lifetime)
            try:
                self.s.recv(65536)           # the ClientHello, never answered
                while self.s.recv(65536):
                    pass
            except OSError:
                pass
            raise EOFError
        sni.clear()
        self.s = ctx.wrap_socket(self.s, server_side=True)
        self.tls = True
        peer = self.s.getpeercert() or {}
        cn = [v for rdn in peer.get('subject', ()) for k, v in rdn if k == 'commonName']
        log('handshakes', '%s %s sni=%s client=%s' % (self.s.version(), self.s.cipher()[0], sni.get('name', '-'),
                                                     cn[0] if cn else '-'))

    def ehlo(self):
        caps = ['PIPELINING', '8BITMIME', 'SIZE 10000000']
        if not self.tls and not a.smtps and not a.no_starttls:
            caps.append('STARTTLS')
        if a.auth and (self.tls or a.no_starttls):
            caps.append('AUTH ' + a.auth)
        self.send('250-fake.test')
        for i, c in enumerate(caps):
            self.send(('250 ' if i == len(caps) - 1 else '250-') + c)

    def auth(self, args):
        parts = args.split()
        mech = parts[0].upper() if parts else ''
        if mech == 'PLAIN':
            blob = parts[1] if len(parts) > 1 else (self.send('334 ') or self.line())
            try:
                _, u, p = base64.b64decode(blob).split(b'\0')
                u, p = u.decode(), p.decode()
            except Exception:
                u, p = None, None
            sent = blob
        elif mech == 'LOGIN':
            self.send('334 VXNlcm5hbWU6')
            bu = self.line()
            self.send('334 UGFzc3dvcmQ6')
            bp = self.line()
            u, p = base64.b64decode(bu).decode(), base64.b64decode(bp).decode()
            sent = bp + ' (' + p + ')'
        else:
            self.send('504 5.5.4 unknown mechanism')
            return
        if u == a.user and p == a.password:
            self.authed = True
            self.send('235 2.7.0 ok')
        else:
            self.send('535 5.7.8 bad credentials for ' + sent)

    def data(self):
        self.send('354 go')
        out = []
        while True:
            l = self.line()
            if l == '.':
                break
            out.append(l)
        with open(os.path.join(a.logdir, 'conn-%d.data' % self.n), 'a') as f:
            f.write('\n'.join(out) + '\n')
        self.send('250 2.0.0 ok queued')

    def run(self):
        if a.smtps:
            self.handshake()
        self.send('220 fake.test ESMTP')
        while True:
            l = self.line()
            cmd, _, args = l.partition(' ')
            cmd = cmd.upper()
            if cmd in ('EHLO', 'HELO'):
                self.ehlo()
            elif cmd == 'STARTTLS' and not self.tls:
                if a.starttls_close:
                    return
                if a.starttls_refuse:
                    self.send('454 4.7.0 TLS not available')
                    continue
                if a.starttls_garbage:
                    self.send('220 2.0.0 go ahead')
                    self.s.sendall(b'this is no TLS record\r\n' * 4)
                    return
                if a.starttls_inject:
                    self.s.sendall(b'220 2.0.0 go ahead\r\n250 injected\r\n')
                else:
                    self.send('220 2.0.0 go ahead')
                self.handshake()
            elif cmd == 'AUTH':
                self.auth(args)
            elif cmd == 'MAIL':
                self.send('530 5.7.0 authentication required' if a.require_auth and not self.authed
                          else '250 2.1.0 ok')
            elif cmd == 'RCPT':
                self.send('250 2.1.5 ok')
            elif cmd == 'DATA':
                self.data()
            elif cmd == 'RSET':
                self.send('250 2.0.0 ok')
            elif cmd == 'QUIT':
                self.send('221 2.0.0 bye')
                return
            else:
                self.send('502 5.5.2 what')

def serve(s, n):
    c = Conn(s, n)
    try:
        c.run()
    except (EOFError, OSError, ssl.SSLError) as e:
        log('errors', 'conn %d: %s' % (n, e))
    try:
        c.s.close()
    except OSError:
        pass

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((a.bind, 0))
ls.listen(16)
print(ls.getsockname()[1], flush=True)
end = time.time() + a.lifetime
n = 0
ls.settimeout(1)
while time.time() < end:
    try:
        s, _ = ls.accept()
    except socket.timeout:
        continue
    n += 1
    log('connections', str(n))
    s.settimeout(max(1, end - time.time()))
    threading.Thread(target=serve, args=(s, n), daemon=True).start()
